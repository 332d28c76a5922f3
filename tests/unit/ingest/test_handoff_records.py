"""Hand-off records: stable ids, and the hand-encoded accepted events equal what protobuf produces."""

from __future__ import annotations

from hypothesis import strategies as st

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
