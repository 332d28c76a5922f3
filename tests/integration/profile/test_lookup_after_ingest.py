"""The call-center question asked as typed: a customer stored by ingest is found by profile's LookupProfile with
the identifier written any usual way (both normalise through declic.kit.identifiers)."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from declic.common.v1 import event_pb2, identity_pb2
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.protoconv import identifier_type_enum, to_timestamp
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from tests.integration.profile.conftest import START, wait_until


def _identifier(id_type: str, value: str) -> identity_pb2.Identifier:
    return identity_pb2.Identifier(type=identifier_type_enum(id_type), value=value)


def _signup(event_id: str, *identifiers: identity_pb2.Identifier) -> event_pb2.Event:
    return event_pb2.Event(event_id=event_id, source="crm", event_time=to_timestamp(START - timedelta(days=1)),
                           identifiers=list(identifiers), identify=event_pb2.Identify(first_name="Ann"))


def test_lookup_finds_what_ingest_stored_however_the_identifier_is_typed(start_service, clock) -> None:
    _, ingest_channel = start_service("ingest", clock=clock)
    _, profile_channel = start_service("profile", clock=clock)
    ingest = ingest_pb2_grpc.IngestServiceStub(ingest_channel)
    profile = profile_pb2_grpc.ProfileServiceStub(profile_channel)
    response = ingest.IngestBatch(ingest_pb2.IngestBatchRequest(events=[
        _signup("ann", _identifier("loyalty_card", "AB1234"), _identifier("phone", "06 12 34 56 78")),
        _signup("bob", _identifier("loyalty_card", " ab-12 ")),
    ]))
    assert response.accepted == 2, [r.errors for r in response.results]
    ann, bob = (result.customer_id for result in response.results)

    def lookup(id_type: str, typed: str) -> str:
        request = profile_pb2.LookupProfileRequest(identifier=_identifier(id_type, typed))
        return profile.LookupProfile(request, timeout=5).profile.customer_id

    def handed_off() -> bool:
        try:
            return lookup("loyalty_card", "AB1234") == ann and lookup("loyalty_card", "AB-12") == bob
        except grpc.RpcError:
            return False

    wait_until(handed_off, timeout=30)
    for id_type, typed in [("loyalty_card", "ab 1234"), ("loyalty_card", " AB 12 34 "),
                           ("phone", "06 12 34 56 78"), ("phone", "0612345678"), ("phone", "+33 6 12 34 56 78"),
                           ("phone", "0033 6 12 34 56 78")]:
        assert lookup(id_type, typed) == ann, (id_type, typed)
    assert lookup("loyalty_card", " AB-12 ") == bob
    with pytest.raises(grpc.RpcError) as caught:
        lookup("loyalty_card", " AB-12 34 ")  # the dash belongs to the number: card AB-1234, nobody's
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
