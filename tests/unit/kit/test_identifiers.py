"""Identifier normalisation, written once in the kit: one table of inputs, asserted through the kit function and
through the entry point of each service that normalises (ingest's validation, profile's lookup), so that they
cannot drift apart again."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from declic.common.v1 import event_pb2, identity_pb2
from declic.kit.errors import InvalidArgument
from declic.kit.identifiers import InvalidIdentifier, normalise_identifier
from declic.kit.protoconv import identifier_type_enum, to_timestamp
from services.ingest.validation import EventValidator
from services.profile.service import ProfileService

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REFUSED = None

# (type, as typed, default region, stored form or REFUSED)
TABLE = [
    ("email", "Ann.Lee@Example.COM", "FR", "ann.lee@example.com"),
    ("email", "  bob+promo@shop.fr ", "FR", "bob+promo@shop.fr"),
    ("email", "élodie@exemple.fr", "FR", "élodie@exemple.fr"),
    ("email", "no-at-sign", "FR", REFUSED),
    ("email", "ann@example", "FR", REFUSED),
    ("phone", "06 12 34 56 78", "FR", "+33612345678"),
    ("phone", "0612345678", "FR", "+33612345678"),
    ("phone", "06-12-34-56-78", "FR", "+33612345678"),
    ("phone", "+33 6 12 34 56 78", "FR", "+33612345678"),
    ("phone", "0033 6 12 34 56 78", "FR", "+33612345678"),
    ("phone", "+33 (0)6.12.34.56.78", "FR", "+33612345678"),
    ("phone", " 06 12 34 56 78 ", "FR", "+33612345678"),
    ("phone", "07400 123456", "GB", "+447400123456"),
    ("phone", "+44 7400 123456", "FR", "+447400123456"),
    ("phone", "hello", "FR", REFUSED),
    ("phone", "12", "FR", REFUSED),
    ("phone", "+33 1", "FR", REFUSED),
    ("loyalty_card", "AB1234", "FR", "AB1234"),
    ("loyalty_card", "ab 1234", "FR", "AB1234"),
    ("loyalty_card", " AB 12 34 ", "FR", "AB1234"),
    ("loyalty_card", " AB-12 ", "FR", "AB-12"),
    ("loyalty_card", " AB-12 34 ", "FR", "AB-1234"),  # a dash is part of the number (ingest's rule, kept)
    ("loyalty_card", "lc-0042", "FR", "LC-0042"),
    ("loyalty_card", "12/34", "FR", REFUSED),
    ("loyalty_card", "   ", "FR", REFUSED),
    ("crm_id", "CRM-7", "FR", "CRM-7"),
    ("crm_id", " 17850 ", "FR", "17850"),
    ("crm_id", "crm 7", "FR", REFUSED),
    ("anonymous_id", "uci-guest-536414", "FR", "uci-guest-536414"),
    ("device_id", " dev-1 ", "FR", "dev-1"),
    ("device_id", "é", "FR", REFUSED),
    ("device_id", "x" * 129, "FR", REFUSED),
]


def through_the_kit(id_type: str, raw: str, region: str) -> str | None:
    try:
        return normalise_identifier(id_type, raw, region)
    except InvalidIdentifier:
        return REFUSED


def through_ingest_validation(id_type: str, raw: str, region: str) -> str | None:
    """What ingest stores for an event carrying this identifier (its value normalised in place)."""
    event = event_pb2.Event(event_id="e-1", source="crm", event_time=to_timestamp(NOW - timedelta(hours=1)),
                            identifiers=[identity_pb2.Identifier(type=identifier_type_enum(id_type), value=raw)],
                            identify=event_pb2.Identify())
    result = EventValidator(region, timedelta(minutes=10)).validate(0, event, NOW)
    if not result.ok:
        assert [path for path, _ in result.errors] == ["identifiers[0].value"]
        return REFUSED
    assert result.identifiers == [(id_type, event.identifiers[0].value)]
    return event.identifiers[0].value


def through_profile_lookup(id_type: str, raw: str, region: str) -> str | None:
    """What LookupProfile searches for (its first step, before any database is read)."""
    service = ProfileService(None, None, None, default_region=region, handoff_stream="")  # type: ignore[arg-type]
    try:
        return service.normalise(id_type, raw)
    except InvalidArgument:
        return REFUSED


@pytest.mark.parametrize("entry_point", [through_the_kit, through_ingest_validation, through_profile_lookup])
@pytest.mark.parametrize(("id_type", "raw", "region", "stored"), TABLE)
def test_every_user_stores_and_finds_the_same_form(entry_point, id_type: str, raw: str, region: str,
                                                   stored: str | None) -> None:
    assert entry_point(id_type, raw, region) == stored


@pytest.mark.parametrize(("id_type", "raw", "reason"), [
    ("email", "no-at-sign", "is not a valid e-mail address"),
    ("phone", "hello", "is not a phone number"),
    ("phone", "12", "is not a valid phone number (read with default region FR)"),
    ("loyalty_card", "12/34", "must be 1-64 letters, digits or '-'"),
    ("crm_id", "  ", "is required"),
    ("device_id", "with space", "must be 1-128 printable ASCII characters without spaces"),
    ("passport", "X", "is not an identifier type ('passport')"),
])
def test_a_refusal_says_why(id_type: str, raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=re.escape(reason)):
        normalise_identifier(id_type, raw, "FR")


@pytest.mark.parametrize("raw", [
    "ann", "ann@", "@example.com", "ann@@example.com", "ann..lee@example.com", ".ann@example.com",
    "ann@example", "ann@-example.com", "ann@example.com.", "ann@ex ample.com", "ann@example.test",
    "a" * 65 + "@example.com", "ann@" + "b" * 250 + ".com", "Ann <ann@example.com>",
])
def test_bad_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentifier, match="is not a valid e-mail address"):
        normalise_identifier("email", raw, "FR")
