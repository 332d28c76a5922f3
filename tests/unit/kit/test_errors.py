"""Errors mapped once to gRPC status codes, with BadRequest details, through a real server."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from declic.kit.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from declic.kit.interceptors import ErrorMappingInterceptor


def test_invalid_argument_carries_field_violations() -> None:
    error = InvalidArgument("", [("events[17].order.lines[0].quantity", "must be > 0"), ("source", "is required")])
    status = error.to_status()
    assert status.code == code_pb2.INVALID_ARGUMENT
    assert status.message == "events[17].order.lines[0].quantity: must be > 0; source: is required"
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("events[17].order.lines[0].quantity", "must be > 0"),
        ("source", "is required"),
    ]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotFound("no customer"), code_pb2.NOT_FOUND),
        (FailedPrecondition("not yet"), code_pb2.FAILED_PRECONDITION),
        (Unavailable("redis down"), code_pb2.UNAVAILABLE),
    ],
)
def test_each_error_has_its_code(error, code) -> None:
    assert error.to_status().code == code
    assert error.to_status().details == []


def _server_raising(exc: Exception) -> tuple[grpc.Server, int]:
    def behaviour(request: bytes, context: grpc.ServicerContext) -> bytes:
        raise exc

    handler = grpc.method_handlers_generic_handler(
        "test.Svc", {"Call": grpc.unary_unary_rpc_method_handler(behaviour)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(2), interceptors=[ErrorMappingInterceptor()])
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (InvalidArgument.field("event.source", "is required"), grpc.StatusCode.INVALID_ARGUMENT,
         "event.source: is required"),
        (NotFound("no customer with e-mail a@b.c"), grpc.StatusCode.NOT_FOUND, "no customer with e-mail a@b.c"),
        (RuntimeError("secret internals"), grpc.StatusCode.INTERNAL, "internal error"),
    ],
)
def test_interceptor_maps_errors_over_the_wire(exc, code, message) -> None:
    server, port = _server_raising(exc)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary("/test.Svc/Call")
            with pytest.raises(grpc.RpcError) as caught:
                call(b"", timeout=5)
        assert caught.value.code() == code
        assert caught.value.details() == message  # internals never leak
        status = rpc_status.from_call(caught.value)
        if isinstance(exc, InvalidArgument):
            bad_request = error_details_pb2.BadRequest()
            status.details[0].Unpack(bad_request)
            assert bad_request.field_violations[0].field == "event.source"
    finally:
        server.stop(0)
