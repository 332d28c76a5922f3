"""Journeys' JSON read by orjson where it gives what the json module gives, and by the json module elsewhere."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from services.scenario.storage.journey_sql import exact_loads

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


def same(text: str) -> None:
    expected = json.loads(text)
    for given_text in (text, text.encode()):
        found = exact_loads(given_text)
        assert found == expected and repr(found) == repr(expected)


def test_integers_beyond_64_bits_and_numbers_beyond_a_double_stay_exact() -> None:
    for text in ("18446744073709551615", "18446744073709551616", "-9223372036854775809",
                 '{"n": 123456789012345678901234567890}', "[1e400, -1e400]", "0.1000000000000000055511151231257827",
                 '{"event": {"type": "order", "order": {"total": 30.0, "lines": [{"quantity": 1}]}}}',
                 '{"trace": {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}',
                 '"caf\\u00e9 \\ud83d\\ude00"', "[]", "{}"):
        same(text)


@given(_values)
def test_any_value_reads_as_the_json_module_reads_it(value: object) -> None:
    same(json.dumps(value))
