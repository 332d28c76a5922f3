"""Scoped bearer tokens: who may call what."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.kit.auth import grants, required_scope, with_token
from declic.kit.channels import make_channel
from declic.kit.server import start
from services.dispatch.main import bootstrap


@pytest.mark.parametrize(
    ("method", "scope"),
    [
        ("/declic.profile.v1.ProfileService/LookupProfile", "profile:read"),
        ("/declic.profile.v1.ProfileService/EraseProfile", "profile:privacy"),
        ("/declic.profile.v1.ProfileService/ExportProfile", "profile:privacy"),
        ("/declic.profile.v1.ProfileService/QuerySegment", "profile:read"),
        ("/declic.ingest.v1.IngestService/IngestBatch", "ingest:write"),
        ("/declic.recommend.v1.RecommendService/Recommend", "recommend:read"),
        ("/declic.recommend.v1.RecommendService/FrequentlyBoughtWith", "recommend:read"),
        ("/declic.recommend.v1.RecommendService/SimilarProducts", "recommend:read"),
        ("/declic.recommend.v1.RecommendService/TrainModel", "recommend:write"),
        ("/declic.arbiter.v1.ArbiterService/CanContact", "arbiter:read"),
        ("/declic.arbiter.v1.ArbiterService/Decide", "arbiter:write"),
        ("/grpc.health.v1.Health/Check", None),
        ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", None),
    ],
)
def test_scope_follows_from_the_method(method: str, scope: str | None) -> None:
    assert required_scope(method) == scope


def test_grants() -> None:
    call_center = frozenset({"profile:read", "arbiter:read"})
    assert grants(call_center, "profile:read")
    assert not grants(call_center, "profile:write")
    assert not grants(call_center, "ingest:write")
    assert grants(frozenset({"ingest:write"}), "ingest:read")  # write implies read
    assert grants(frozenset({"dispatch:*"}), "dispatch:write")
    assert grants(frozenset({"*"}), "anything:write")
    assert not grants(frozenset({"profile:write"}), "profile:privacy")  # exports and erasures are their own right
    assert grants(frozenset({"profile:*"}), "profile:privacy")


@pytest.fixture
def secured_dispatch(settings):
    secured = settings.model_copy(
        update={"auth_tokens": {"svc-token": ["*"], "cc-token": ["dispatch:read"], "other": ["profile:read"]}}
    )
    running = start(bootstrap(secured), secured, port=0)
    yield f"127.0.0.1:{running.port}"
    running.stop(grace=0.5, drain=0)


def test_server_refuses_calls_without_the_scope(secured_dispatch: str) -> None:
    listing = dispatch_pb2.ListMessagesRequest()
    with grpc.insecure_channel(secured_dispatch) as bare:
        with pytest.raises(grpc.RpcError) as caught:
            dispatch_pb2_grpc.DispatchServiceStub(bare).ListMessages(listing)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "authorization: Bearer" in caught.value.details()
        # probes and tools stay open
        assert health_pb2_grpc.HealthStub(bare).Check(health_pb2.HealthCheckRequest()).status == 1
        for token, code in (("nope", grpc.StatusCode.UNAUTHENTICATED), ("other", grpc.StatusCode.PERMISSION_DENIED)):
            with pytest.raises(grpc.RpcError) as caught:
                dispatch_pb2_grpc.DispatchServiceStub(with_token(bare, token)).ListMessages(listing)
            assert caught.value.code() == code
    call_center = dispatch_pb2_grpc.DispatchServiceStub(make_channel(secured_dispatch, "cc-token"))
    assert list(call_center.ListMessages(listing).messages) == []
    with pytest.raises(grpc.RpcError) as caught:
        call_center.SendMessage(dispatch_pb2.SendMessageRequest())
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "dispatch:write" in caught.value.details()
    service = dispatch_pb2_grpc.DispatchServiceStub(make_channel(secured_dispatch, "svc-token"))
    with pytest.raises(grpc.RpcError) as caught:  # authorised: now the request itself is judged
        service.SendMessage(dispatch_pb2.SendMessageRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
