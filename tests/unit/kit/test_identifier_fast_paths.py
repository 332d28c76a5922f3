"""The kit's quick ways of reading e-mails and national phone numbers give exactly what the libraries give."""

from __future__ import annotations

import email_validator
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from declic.kit import identifiers
from declic.kit.identifiers import InvalidIdentifier, normalise_email

_local = st.text(alphabet="abcXYZ019._%+-", min_size=1, max_size=70)
_domain = st.text(alphabet="abcxn019.-", min_size=1, max_size=30).map(lambda d: d + ".com")


@settings(max_examples=300, deadline=None)
@given(local=_local, domain=st.one_of(_domain, st.text(alphabet="ab.-", min_size=1, max_size=12)))
def test_the_email_fast_path_agrees_with_email_validator(local: str, domain: str) -> None:
    """Plain addresses take a cached path; it must accept and refuse exactly what email-validator does."""
    address = f"{local}@{domain}"
    try:
        expected = email_validator.validate_email(address, check_deliverability=False).normalized.lower()
    except email_validator.EmailNotValidError:
        expected = None
    try:
        got = normalise_email(address)
    except InvalidIdentifier:
        got = None
    assert got == expected


def _parsed(raw: str, region: str) -> str | None:
    """What phonenumbers' general parser makes of `raw` (None when it refuses it)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=3000, deadline=None)
@given(region=st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
       digits=st.text(alphabet="0123456789", min_size=1, max_size=14),
       separators=st.lists(st.sampled_from([" ", ".", "-", ""]), min_size=14, max_size=14))
def test_national_numbers_read_without_the_parser_are_what_the_parser_reads(region, digits, separators) -> None:
    raw = "0" + "".join(d + sep for d, sep in zip(digits, separators, strict=False))
    quick = identifiers._national_phone(raw, region)
    assert quick is None or quick == _parsed(raw, region)


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("06 12 34 56 78", "FR", "+33612345678"), ("01.23.45.67.89", "FR", "+33123456789"),
    ("030 123456", "DE", "+4930123456"), ("0470 12 34 56", "BE", "+32470123456"),
])
def test_usual_national_numbers_take_the_quick_way(raw: str, region: str, expected: str) -> None:
    assert identifiers._national_phone(raw, region) == expected == _parsed(raw, region)


def test_example_numbers_of_every_plain_dialling_plan_read_the_same_both_ways() -> None:
    quick_reads = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        if identifiers._plain_dialling_plan(region) is None:
            continue
        for number_type in range(12):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            national = "0" + phonenumbers.national_significant_number(example)
            for raw in (national, " ".join(national[i:i + 2] for i in range(0, len(national), 2)),
                        national[:4] + "-" + national[4:], national[:-1], national + "1"):
                quick = identifiers._national_phone(raw, region)
                assert quick is None or quick == _parsed(raw, region), (region, raw)
                quick_reads += quick is not None
    assert quick_reads > 300  # the quick way is taken, not only the parser
