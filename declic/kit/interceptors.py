"""Server interceptors: errors mapped once to gRPC status, one log line per call.

Log lines carry the method, the status code and the duration only: never
request fields, so no personal data reaches the logs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from grpc_status import rpc_status

from declic.kit.errors import DeclicError, internal_status

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
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_streaming(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _wrap_unary(handler.stream_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                _wrap_streaming(handler.stream_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
