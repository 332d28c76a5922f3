"""Every single-value rule of ingest, with good and bad inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import email_validator
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.domain import rules
from services.ingest.domain.rules import RuleViolation

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Ann.Lee@Example.COM", "ann.lee@example.com"),
    ("  bob+promo@shop.fr ", "bob+promo@shop.fr"),
    ("élodie@exemple.fr", "élodie@exemple.fr"),
])
def test_emails_are_validated_and_lower_cased(raw: str, expected: str) -> None:
    assert rules.normalise_email(raw) == expected


@pytest.mark.parametrize("raw", [
    "ann", "ann@", "@example.com", "ann@@example.com", "ann..lee@example.com", ".ann@example.com",
    "ann@example", "ann@-example.com", "ann@example.com.", "ann@ex ample.com", "ann@example.test",
    "a" * 65 + "@example.com", "ann@" + "b" * 250 + ".com", "Ann <ann@example.com>",
])
def test_bad_emails_are_refused(raw: str) -> None:
    with pytest.raises(RuleViolation, match="is not a valid e-mail address"):
        rules.normalise_email(raw)


_local = st.text(alphabet="abcXYZ019._%+-", min_size=1, max_size=70)
_domain = st.text(alphabet="abcxn019.-", min_size=1, max_size=30).map(lambda d: d + ".com")


@settings(max_examples=300, deadline=None)
@given(local=_local, domain=st.one_of(_domain, st.text(alphabet="ab.-", min_size=1, max_size=12)))
def test_the_fast_path_agrees_with_email_validator(local: str, domain: str) -> None:
    """Plain addresses take a cached path; it must accept and refuse exactly what email-validator does."""
    address = f"{local}@{domain}"
    try:
        expected = email_validator.validate_email(address, check_deliverability=False).normalized.lower()
    except email_validator.EmailNotValidError:
        expected = None
    try:
        got = rules.normalise_email(address)
    except RuleViolation:
        got = None
    assert got == expected


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 6 12 34 56 78", "GB", "+33612345678"),
    ("07911 123456", "GB", "+447911123456"),
    ("0033612345678", "FR", "+33612345678"),
])
def test_phones_become_e164_with_the_default_region(raw: str, region: str, expected: str) -> None:
    assert rules.normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["hello", "12", "06 12 34", "+33 1", "+999 123456789"])
def test_bad_phones_are_refused(raw: str) -> None:
    with pytest.raises(RuleViolation, match="phone number"):
        rules.normalise_phone(raw, "FR")


def test_loyalty_cards_lose_spaces_and_case() -> None:
    assert rules.normalise_loyalty_card("ab 12-3") == "AB12-3"
    with pytest.raises(RuleViolation, match="letters, digits"):
        rules.normalise_loyalty_card("12/34")
    with pytest.raises(RuleViolation, match="is required"):
        rules.normalise_loyalty_card("   ")


@pytest.mark.parametrize("raw", ["with space", "tab\there", "x" * 129, "é"])
def test_opaque_ids_are_printable_ascii(raw: str) -> None:
    with pytest.raises(RuleViolation):
        rules.normalise_opaque_id(raw)


def test_identifiers_dispatch_on_their_type() -> None:
    assert rules.normalise_identifier("email", "A@B.FR", "FR") == "a@b.fr"
    assert rules.normalise_identifier("phone", "0612345678", "FR") == "+33612345678"
    assert rules.normalise_identifier("device_id", " dev-1 ", "FR") == "dev-1"
    with pytest.raises(RuleViolation, match="is required"):
        rules.normalise_identifier("crm_id", "  ", "FR")


def test_currencies_are_iso_4217() -> None:
    assert rules.normalise_currency("eur") == "EUR"
    for bad in ("", "EURO", "ABC", "€"):
        with pytest.raises(RuleViolation):
            rules.normalise_currency(bad)


@pytest.mark.parametrize(("units", "nanos", "reason"), [
    (-1, 0, "must be >= 0"),
    (0, -5, "must be >= 0"),
    (1, -5, "same sign"),
    (-1, 5, "same sign"),
    (0, 1_000_000_000, "nanos"),
    (10**13, 0, "at most"),
])
def test_bad_amounts(units: int, nanos: int, reason: str) -> None:
    with pytest.raises(RuleViolation, match=reason):
        rules.check_amount(units, nanos)


def test_good_amounts() -> None:
    rules.check_amount(0, 0)
    rules.check_amount(12, 500_000_000)
    rules.check_amount(-3, -5, allow_negative=True)


@pytest.mark.parametrize(("quantity", "reason"), [(0, "must be > 0"), (-2, "must be > 0"), (100_001, "at most")])
def test_bad_quantities(quantity: int, reason: str) -> None:
    with pytest.raises(RuleViolation, match=reason):
        rules.check_quantity(quantity)


def test_event_time_far_future_is_refused_late_is_fine() -> None:
    skew = timedelta(minutes=10)
    rules.check_event_time(NOW - timedelta(days=400), NOW, skew)  # late: fine
    rules.check_event_time(NOW + timedelta(minutes=9), NOW, skew)  # clock skew: fine
    with pytest.raises(RuleViolation, match="in the future"):
        rules.check_event_time(NOW + timedelta(minutes=11), NOW, skew)
    with pytest.raises(RuleViolation, match="is required"):
        rules.check_event_time(None, NOW, skew)


def test_birth_dates() -> None:
    assert rules.check_birth_date("1990-04-12") == "1990-04-12"
    assert rules.check_birth_date("0000-02-29") == "0000-02-29"
    for bad, reason in (("1990-02-30", "calendar"), ("12/04/1990", "YYYY-MM-DD"), ("1990-4-12", "YYYY-MM-DD")):
        with pytest.raises(RuleViolation, match=reason):
            rules.check_birth_date(bad)


def test_locale_timezone_url_source_event_id() -> None:
    assert rules.check_locale("fr_FR") == "fr-FR"
    assert rules.check_timezone("Europe/Paris") == "Europe/Paris"
    assert rules.check_url("https://shop.example.com/p/1") == "https://shop.example.com/p/1"
    assert rules.check_source("pos-store.12") == "pos-store.12"
    cases = [
        (rules.check_locale, "french!"),
        (rules.check_timezone, "Mars/Olympus"),
        (rules.check_url, "ftp://x"),
        (rules.check_url, ""),
        (rules.check_source, "Web Shop"),
        (rules.check_source, ""),
        (rules.check_event_id, "has space"),
        (rules.check_event_id, ""),
        (rules.check_required_id, "  "),
        (rules.check_required_id, "p" * 129),
    ]
    for rule, bad in cases:
        with pytest.raises(RuleViolation):
            rule(bad)


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
    quick = rules._national_phone(raw, region)
    assert quick is None or quick == _parsed(raw, region)


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("06 12 34 56 78", "FR", "+33612345678"), ("01.23.45.67.89", "FR", "+33123456789"),
    ("030 123456", "DE", "+4930123456"), ("0470 12 34 56", "BE", "+32470123456"),
])
def test_usual_national_numbers_take_the_quick_way(raw: str, region: str, expected: str) -> None:
    assert rules._national_phone(raw, region) == expected == _parsed(raw, region)


def test_example_numbers_of_every_plain_dialling_plan_read_the_same_both_ways() -> None:
    quick_reads = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        if rules._plain_dialling_plan(region) is None:
            continue
        for number_type in range(12):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            national = "0" + phonenumbers.national_significant_number(example)
            for raw in (national, " ".join(national[i:i + 2] for i in range(0, len(national), 2)),
                        national[:4] + "-" + national[4:], national[:-1], national + "1"):
                quick = rules._national_phone(raw, region)
                assert quick is None or quick == _parsed(raw, region), (region, raw)
                quick_reads += quick is not None
    assert quick_reads > 300  # the quick way is taken, not only the parser
