"""Profile's reading of identifiers: the time zone a phone number gives (normalising them is the kit's: see
tests/unit/kit/test_identifiers.py)."""

from __future__ import annotations

from services.profile.domain.identifiers import phone_timezone


def test_phone_timezone_only_when_the_country_has_one_zone() -> None:
    assert phone_timezone("+33612345678") == "Europe/Paris"
    assert phone_timezone("+14155550123") == "America/Los_Angeles"
    assert phone_timezone("not a number") is None
