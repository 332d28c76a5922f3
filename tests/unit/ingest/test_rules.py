"""Every single-value rule of ingest, with good and bad inputs (identifiers: tests/unit/kit/test_identifiers.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.ingest.domain import rules
from services.ingest.domain.rules import RuleViolation

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


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


def test_a_line_total_is_bounded_so_every_total_in_cents_fits_64_bits() -> None:
    rules.check_line_total(rules.MAX_QUANTITY, rules.MAX_UNITS // rules.MAX_QUANTITY)
    with pytest.raises(RuleViolation, match="quantity × unit_price must be at most"):
        rules.check_line_total(rules.MAX_QUANTITY, rules.MAX_UNITS // rules.MAX_QUANTITY + 1)
    # The largest order ingest accepts (1,000 such lines) in cents, as profile stores it, is far below 2**63.
    assert 1_000 * (rules.MAX_UNITS + rules.MAX_QUANTITY) * 100 < 2**63
