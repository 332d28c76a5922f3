"""Identifier normalisation: every usual way of writing an identifier gives the stored form."""

from __future__ import annotations

import pytest

from services.profile.domain.identifiers import InvalidIdentifier, normalise_identifier, phone_timezone


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "+33612345678",
                                   "0033 6 12 34 56 78", "+33 (0)6.12.34.56.78", "06-12-34-56-78"])
def test_french_phone_formats_give_e164(typed: str) -> None:
    assert normalise_identifier("phone", typed, "FR") == "+33612345678"


def test_national_format_is_read_in_the_default_region() -> None:
    assert normalise_identifier("phone", "07400 123456", "GB") == "+447400123456"
    assert normalise_identifier("phone", "+44 7400 123456", "FR") == "+447400123456"


@pytest.mark.parametrize("typed", ["Ann.Lee@Example.COM", "  ann.lee@example.com ", "ANN.LEE@EXAMPLE.COM"])
def test_emails_are_lower_cased_and_trimmed(typed: str) -> None:
    assert normalise_identifier("email", typed, "FR") == "ann.lee@example.com"


def test_other_identifiers_are_trimmed_only() -> None:
    assert normalise_identifier("loyalty_card", " LC-0042 ", "FR") == "LC-0042"
    assert normalise_identifier("crm_id", "CRM-7", "FR") == "CRM-7"


@pytest.mark.parametrize(("id_type", "value", "why"), [
    ("email", "no-at-sign", "not a valid e-mail"),
    ("email", "a@b", "not a valid e-mail"),
    ("phone", "12", "phone"),
    ("phone", "+33 1", "phone"),
    ("phone", "hello", "not a phone number"),
    ("loyalty_card", "  ", "is empty"),
    ("passport", "X", "unknown identifier type"),
])
def test_unreadable_identifiers_say_why(id_type: str, value: str, why: str) -> None:
    with pytest.raises(InvalidIdentifier, match=why):
        normalise_identifier(id_type, value, "FR")


def test_phone_timezone_only_when_the_country_has_one_zone() -> None:
    assert phone_timezone("+33612345678") == "Europe/Paris"
    assert phone_timezone("+14155550123") == "America/Los_Angeles"
    assert phone_timezone("not a number") is None
