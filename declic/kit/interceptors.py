"""Server interceptors: requests checked at the door, errors mapped once to gRPC status, one log line per call.

Log lines carry the method, the status code and the duration only: never
request fields, so no personal data reaches the logs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_status import rpc_status

from declic.kit.errors import DeclicError, InvalidArgument, internal_status
from declic.kit.request_validation import check_request
from declic.kit.request_validation.undecodable import UNDECODABLE, BurstLog, tolerant

log = logging.getLogger("declic.rpc")


def _abort(context: grpc.ServicerContext, exc: BaseException, method: str) -> None:
    if isinstance(exc, DeclicError):
        status = exc.to_status()
    else:
        log.exception("unhandled error in %s", method)
        status = internal_status()
    context.abort_with_status(rpc_status.to_status(status))


def _wrap_unary(behaviour: Callable, method: str) -> Callable:
    def handler(request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        code = "OK"
        try:
            return behaviour(request, context)
        except Exception as exc:  # noqa: BLE001 - the single place errors become statuses
            code = exc.code.name if isinstance(exc, DeclicError) else "INTERNAL"
            _abort(context, exc, method)
        finally:
            log.debug("%s %s %.1fms", method, code, (time.perf_counter() - started) * 1000)

    return handler


def _wrap_streaming(behaviour: Callable, method: str) -> Callable:
    def handler(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        started = time.perf_counter()
        code = "OK"
        try:
            yield from behaviour(request, context)
        except Exception as exc:  # noqa: BLE001
            code = exc.code.name if isinstance(exc, DeclicError) else "INTERNAL"
            _abort(context, exc, method)
        finally:
            log.debug("%s %s %.1fms", method, code, (time.perf_counter() - started) * 1000)

    return handler


class ErrorMappingInterceptor(grpc.ServerInterceptor):
    """Turns DeclicError into its status (with details) and anything else into INTERNAL."""

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        method = handler_call_details.method

        def wrap(behaviour: Callable, streaming_request: bool, streaming_response: bool) -> Callable:
            return (_wrap_streaming if streaming_response else _wrap_unary)(behaviour, method)

        return _rebuild(continuation(handler_call_details), wrap)


class RequestCheckInterceptor(grpc.ServerInterceptor):
    """The door: every request decodes and keeps the rules of `declic.kit.request_validation`, or the call is
    INVALID_ARGUMENT before the handler runs. Placed inside ErrorMappingInterceptor, which maps its errors."""

    def __init__(self, service: str) -> None:
        self._undecodable = BurstLog(service, log)

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        method = handler_call_details.method
        undecodable = self._undecodable

        def checked(request: Any) -> Any:
            if request is UNDECODABLE:
                undecodable.note(method)
                raise InvalidArgument("the request cannot be decoded (malformed protobuf, or a string that is "
                                      "not UTF-8)")
            if isinstance(request, Message):
                check_request(request)
            return request

        def checked_stream(requests: Iterator[Any]) -> Iterator[Any]:
            for request in requests:
                yield checked(request)

        def wrap(behaviour: Callable, streaming_request: bool, streaming_response: bool) -> Callable:
            if streaming_request:
                return lambda requests, context: behaviour(checked_stream(requests), context)
            return lambda request, context: behaviour(checked(request), context)

        return _rebuild(continuation(handler_call_details), wrap, tolerant)


def _rebuild(handler: grpc.RpcMethodHandler | None, wrap: Callable[[Callable, bool, bool], Callable],
             deserializer: Callable[[Any], Any] = lambda deserialize: deserialize) -> grpc.RpcMethodHandler | None:
    """The same handler with its behaviour wrapped (`wrap(behaviour, streaming_request, streaming_response)`)
    and its request deserializer passed through `deserializer`."""
    if handler is None:
        return None
    kinds = (
        (handler.unary_unary, False, False, grpc.unary_unary_rpc_method_handler),
        (handler.unary_stream, False, True, grpc.unary_stream_rpc_method_handler),
        (handler.stream_unary, True, False, grpc.stream_unary_rpc_method_handler),
        (handler.stream_stream, True, True, grpc.stream_stream_rpc_method_handler),
    )
    for behaviour, streaming_request, streaming_response, make in kinds:
        if behaviour:
            return make(
                wrap(behaviour, streaming_request, streaming_response),
                request_deserializer=deserializer(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
    return handler
