"""Errors do not echo unbounded input: a long id gets a short NOT_FOUND or INVALID_ARGUMENT over real gRPC,
never a transport error because the status outgrew the trailers."""

from __future__ import annotations

import grpc
import pytest

from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.errors import MAX_MESSAGE_CHARS
from declic.profile.v1 import profile_pb2, profile_pb2_grpc

LONG_IDS = ["x" * 1000, "y" * 100_000]  # one the door lets through (at most 1,024 characters), one it refuses


def refused(call, request) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=10)
    return caught.value


@pytest.mark.parametrize("customer_id", LONG_IDS)
def test_profile_answers_a_long_id_shortly(start_service, customer_id: str) -> None:
    _, channel = start_service("profile")
    stub = profile_pb2_grpc.ProfileServiceStub(channel)
    for call, request in [
        (stub.GetProfile, profile_pb2.GetProfileRequest(customer_id=customer_id)),
        (stub.ListConsentHistory, profile_pb2.ListConsentHistoryRequest(customer_id=customer_id)),
        (stub.ExportProfile, profile_pb2.ExportProfileRequest(customer_id=customer_id)),
    ]:
        error = refused(call, request)
        assert error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), error.details()
        assert len(error.details()) <= 200 and customer_id not in error.details()
    if len(customer_id) <= 1024:  # past the door: NOT_FOUND quotes the id cut to 64 characters
        assert refused(stub.GetProfile, profile_pb2.GetProfileRequest(customer_id=customer_id)).details() == (
            "no customer '" + "x" * 64 + "'…")


@pytest.mark.parametrize("customer_id", LONG_IDS)
def test_ingest_answers_a_long_id_shortly(start_service, customer_id: str) -> None:
    _, channel = start_service("ingest")
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    for call, request in [
        (stub.GetCustomerIdentity, ingest_pb2.GetCustomerIdentityRequest(customer_id=customer_id)),
        (stub.SplitCustomer, ingest_pb2.SplitCustomerRequest(customer_id=customer_id, identifiers=[
            {"type": "IDENTIFIER_TYPE_EMAIL", "value": "ann@example.com"}])),
        (stub.ListIdentityAudit, ingest_pb2.ListIdentityAuditRequest(page_token=customer_id)),
    ]:
        error = refused(call, request)
        assert error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), error.details()
        assert len(error.details()) <= MAX_MESSAGE_CHARS and customer_id not in error.details()
