"""What the rules answered for inputs met again and again (sources, a customer's identifiers), bounded by bytes.

Validation is fast because most events repeat what earlier ones said (see BENCHMARKS.md, ingest): the same
raw identifier always normalises to the same value. Only answers for good inputs are kept, and only for
inputs no longer than a good one can be, so nothing a client sends that is refused can grow the cache; and
the whole cache holds an estimate of at most `max_bytes` (when a new answer would pass it, the cache starts
afresh: a hot answer is back after its next event).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
MAX_KEY_CHARS = 256
"""Longer inputs are never kept: no good source or identifier is that long (an e-mail address: 254)."""
ENTRY_BYTES = 360
"""What one entry costs beyond twice its key's characters (the raw and the normalised value): the strings'
headers, the answer's tuple and the dict's slot; tracemalloc on CPython 3.11 measured 343 for e-mail addresses."""


class ValidationCache:
    """Answers by space (e.g. "source", or an identifier type) and raw input, at most `max_bytes` in all."""

    def __init__(self, spaces: Iterable[Hashable], max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.spaces: dict[Hashable, dict[str, Any]] = {space: {} for space in spaces}
        """Read directly on the hot path: `spaces[space].get(raw)`; an unknown space is never cached."""
        self.max_bytes = max_bytes
        self.used_bytes = 0

    def keep(self, space: Hashable, raw: str, answer: Any) -> None:
        """Remember a good input's answer (call it only for inputs the rules accepted)."""
        if len(raw) > MAX_KEY_CHARS:
            return
        entries = self.spaces.get(space)
        if entries is None:
            return
        cost = ENTRY_BYTES + 2 * len(raw)
        if self.used_bytes + cost > self.max_bytes:
            self.clear()
        entries[raw] = answer
        self.used_bytes += cost

    def clear(self) -> None:
        """Forget every answer."""
        for entries in self.spaces.values():
            entries.clear()
        self.used_bytes = 0

    def __len__(self) -> int:
        return sum(len(entries) for entries in self.spaces.values())
