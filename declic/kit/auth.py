"""Callers authenticate with a bearer token in gRPC metadata; each token carries scopes.

A scope is `<service>:read`, `<service>:write` (implies read), `<service>:privacy`,
`<service>:*` or `*`. A method's scope follows from its name: Export…/Erase… (GDPR:
everything held about a person, or its removal) need `privacy`; Get…/List…/Lookup…/
Query…/Recommend…/Check…/CanContact read; everything else writes. So a call-center token with
`profile:read` can look people up but not ingest, export or erase. Health and reflection
stay open (probes and generic tools use them).

Tokens are configured as DECLIC_AUTH_TOKENS, a JSON object token → scopes; the
server keeps only their SHA-256. With no tokens configured, auth is off (the
local default) and the server says so at start.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence

import grpc

PRIVACY_VERBS = ("Export", "Erase")
READ_VERBS = ("Get", "List", "Lookup", "Query", "Recommend", "Check", "CanContact", "FrequentlyBoughtWith",
              "SimilarProducts")
"""`CanContact`: the arbiter's dry run for call-center tools (reserves nothing), named in full so no future
Cancel… is mistaken for a read; recommend's two product look-ups likewise (they read the current model)."""


def required_scope(method: str) -> str | None:
    """"/declic.profile.v1.ProfileService/LookupProfile" → "profile:read"; None for open methods."""
    if not method.startswith("/declic."):
        return None
    service_path, rpc = method.rsplit("/", 1)
    service = service_path.split(".")[1]
    if rpc.startswith(PRIVACY_VERBS):
        return f"{service}:privacy"
    return f"{service}:{'read' if rpc.startswith(READ_VERBS) else 'write'}"


def grants(scopes: frozenset[str], needed: str) -> bool:
    """Whether `scopes` allow `needed` ("profile:read"): exact, write ⊇ read, service:*, or *."""
    service, access = needed.split(":")
    return bool(
        scopes & {needed, f"{service}:*", "*"} or (access == "read" and f"{service}:write" in scopes)
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenTable:
    """The configured tokens, kept as digests only."""

    def __init__(self, tokens: Mapping[str, Sequence[str]]) -> None:
        self._scopes = {_digest(token): frozenset(scopes) for token, scopes in tokens.items()}

    @property
    def enabled(self) -> bool:
        return bool(self._scopes)

    def scopes_of(self, token: str) -> frozenset[str] | None:
        digest = _digest(token)
        for known, scopes in self._scopes.items():
            if hmac.compare_digest(known, digest):
                return scopes
        return None


def _bearer(metadata: Sequence[tuple[str, str | bytes]] | None) -> str:
    for key, value in metadata or ():
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            return text.removeprefix("Bearer ").strip()
    return ""


def _refusal(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler:
    def refuse(request: object, context: grpc.ServicerContext) -> None:
        context.abort(code, message)

    kinds: dict[str, Callable] = {
        "unary_unary": grpc.unary_unary_rpc_method_handler,
        "unary_stream": grpc.unary_stream_rpc_method_handler,
        "stream_unary": grpc.stream_unary_rpc_method_handler,
        "stream_stream": grpc.stream_stream_rpc_method_handler,
    }
    for attribute, factory in kinds.items():
        if getattr(handler, attribute):
            return factory(
                refuse,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


class AuthInterceptor(grpc.ServerInterceptor):
    """UNAUTHENTICATED without a known token, PERMISSION_DENIED without the method's scope."""

    def __init__(self, table: TokenTable) -> None:
        self._table = table

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        needed = required_scope(handler_call_details.method)
        if handler is None or needed is None or not self._table.enabled:
            return handler
        token = _bearer(handler_call_details.invocation_metadata)
        if not token:
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED,
                            "missing token: send metadata 'authorization: Bearer <token>'")
        scopes = self._table.scopes_of(token)
        if scopes is None:
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED, "unknown token")
        if not grants(scopes, needed):
            return _refusal(handler, grpc.StatusCode.PERMISSION_DENIED, f"this token lacks the scope {needed}")
        return handler


class _TokenClientInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def _with_token(self, details):  # type: ignore[no-untyped-def]
        metadata = [*(details.metadata or ()), self._header]
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else _Details(details, metadata)

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(client_call_details), request)


class _Details(grpc.ClientCallDetails):
    def __init__(self, details: grpc.ClientCallDetails, metadata: list) -> None:
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = getattr(details, "wait_for_ready", None)
        self.compression = getattr(details, "compression", None)


def with_token(channel: grpc.Channel, token: str) -> grpc.Channel:
    """`channel`, presenting `token` on every call (unchanged when the token is empty)."""
    return grpc.intercept_channel(channel, _TokenClientInterceptor(token)) if token else channel
