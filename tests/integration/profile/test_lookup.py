"""Identify events build the profile; lookups find it by any identifier in any usual format."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from declic.common.v1 import event_pb2, identity_pb2
from declic.kit.protoconv import identifier_type_enum
from declic.profile.v1 import profile_pb2
from tests.integration.profile.conftest import START
from tests.integration.profile.records import accepted, consent, ident, identify


def _lookup(stub, id_type: str, value: str) -> profile_pb2.Profile:
    request = profile_pb2.LookupProfileRequest(
        identifier=identity_pb2.Identifier(type=identifier_type_enum(id_type), value=value))
    return stub.LookupProfile(request).profile


def test_identify_creates_a_profile_found_by_every_identifier_format(profile) -> None:
    stub, publish = profile
    publish([identify(
        "c-ann", START - timedelta(days=3),
        [ident("email", "ann.lee@example.com"), ident("phone", "+33612345678"), ident("loyalty_card", "LC-0042"),
         ident("crm_id", "CRM-7")],
        first_name="Ann", last_name="Lee", birth_date="1990-03-02", locale="fr-FR", timezone="Europe/Paris",
        consents=[consent("email", True, START - timedelta(days=3))],
    )])
    for id_type, typed in [("email", "Ann.Lee@Example.COM"), ("email", " ann.lee@example.com "),
                           ("phone", "06 12 34 56 78"), ("phone", "+33 6 12 34 56 78"), ("phone", "0033612345678"),
                           ("phone", "+33 (0)6-12-34-56-78"), ("loyalty_card", "LC-0042"), ("crm_id", "CRM-7")]:
        found = _lookup(stub, id_type, typed)
        assert found.customer_id == "c-ann", (id_type, typed)
    got = stub.GetProfile(profile_pb2.GetProfileRequest(customer_id="c-ann")).profile
    assert (got.first_name, got.last_name, got.birth_date, got.timezone) == ("Ann", "Lee", "1990-03-02", "Europe/Paris")
    assert got.lifecycle_stage == profile_pb2.LIFECYCLE_STAGE_PROSPECT
    by_channel = {c.channel: c for c in got.contactability}
    assert by_channel[identity_pb2.CHANNEL_EMAIL].contactable
    assert by_channel[identity_pb2.CHANNEL_EMAIL].address == "ann.lee@example.com"
    assert not by_channel[identity_pb2.CHANNEL_SMS].contactable
    assert by_channel[identity_pb2.CHANNEL_SMS].reason == "no consent"


def test_unknown_identifier_and_customer_are_not_found_with_a_clear_message(profile) -> None:
    stub, _ = profile
    with pytest.raises(grpc.RpcError) as caught:
        _lookup(stub, "email", "Nobody@Example.com")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "nobody@example.com" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetProfile(profile_pb2.GetProfileRequest(customer_id="c-none"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "c-none" in caught.value.details()


@pytest.mark.parametrize(("id_type", "value", "field"), [
    ("email", "not-an-email", "identifier.value"),
    ("phone", "12", "identifier.value"),
    ("unspecified", "x", "identifier.type"),
    ("email", "   ", "identifier.value"),
])
def test_malformed_lookups_are_invalid_argument(profile, id_type, value, field) -> None:
    stub, _ = profile
    with pytest.raises(grpc.RpcError) as caught:
        _lookup(stub, id_type, value)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in caught.value.details()


def test_unsubscribed_or_bounced_email_is_not_contactable(profile) -> None:
    stub, publish = profile
    email = [ident("email", "bob@example.com")]
    publish([
        identify("c-bob", START - timedelta(days=9), email, consents=[consent("email", True, START - timedelta(9))]),
        identify("c-eve", START - timedelta(days=9), [ident("email", "eve@example.com")],
                 consents=[consent("email", True, START - timedelta(9))]),
        accepted("c-bob", START - timedelta(days=2), email, message_engagement=event_pb2.MessageEngagement(
            message_id="m-1", channel=identity_pb2.CHANNEL_EMAIL, kind=event_pb2.ENGAGEMENT_KIND_UNSUBSCRIBED)),
        accepted("c-eve", START - timedelta(days=2), [ident("email", "eve@example.com")],
                 message_engagement=event_pb2.MessageEngagement(
                     message_id="m-2", channel=identity_pb2.CHANNEL_EMAIL, kind=event_pb2.ENGAGEMENT_KIND_BOUNCED)),
    ])
    bob = {c.channel: c for c in stub.GetProfile(profile_pb2.GetProfileRequest(customer_id="c-bob"))
           .profile.contactability}[identity_pb2.CHANNEL_EMAIL]
    eve = {c.channel: c for c in stub.GetProfile(profile_pb2.GetProfileRequest(customer_id="c-eve"))
           .profile.contactability}[identity_pb2.CHANNEL_EMAIL]
    assert not bob.contactable and "unsubscribe" in bob.reason
    assert not eve.contactable and eve.reason == "bounced"
