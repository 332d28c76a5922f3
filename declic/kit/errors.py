"""One error type for the whole system, mapped once to gRPC status codes.

Domain and service code raise these; the server interceptor turns them into
a google.rpc.Status with details (BadRequest field violations for bad input).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

_INDEX = re.compile(r"\[\d+\]")
# A caller's value is quoted in an error only this far: an error travels in gRPC trailers (about 8 KiB in all).
QUOTE_CHARS = 64
# The last bounds, whatever was put in an error: its message, each violation's texts, the violations sent.
MAX_MESSAGE_CHARS = 512
MAX_VIOLATION_CHARS = 160
MAX_VIOLATIONS = 10


def quoted(value: object, limit: int = QUOTE_CHARS) -> str:
    """A caller's value fit to quote in an error: repr() of its first `limit` characters, "…" when cut."""
    text = str(value)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def _bounded(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class DeclicError(Exception):
    """Base error: carries its gRPC status code and a message for the caller."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        message = _bounded(message)
        super().__init__(message)
        self.message = message

    def details(self) -> list[any_pb2.Any]:
        """Extra google.rpc details packed into the status."""
        return []

    def to_status(self) -> status_pb2.Status:
        """The google.rpc.Status sent to the caller."""
        status = status_pb2.Status(code=self.code.value[0], message=self.message)
        status.details.extend(self.details())
        return status


class InvalidArgument(DeclicError):
    """The request is wrong; `violations` name each bad field and why."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, message: str, violations: Iterable[tuple[str, str]] = ()) -> None:
        self.violations = [(_bounded(field, MAX_VIOLATION_CHARS), _bounded(why, MAX_VIOLATION_CHARS))
                           for field, why in violations]
        if self.violations and message == "":
            message = "; ".join(f"{field}: {why}" for field, why in self.violations)
        super().__init__(message)

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        """A single bad field: the message reads "field: description"."""
        return cls(f"{field}: {description}", [(field, description)])

    def details(self) -> list[any_pb2.Any]:
        if not self.violations:
            return []
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=field, description=why)
                for field, why in self.violations[:MAX_VIOLATIONS]
            ]
        )
        packed = any_pb2.Any()
        packed.Pack(bad_request)
        return [packed]


class NotFound(DeclicError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DeclicError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(DeclicError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(DeclicError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(DeclicError):
    code = grpc.StatusCode.UNAUTHENTICATED


class Unavailable(DeclicError):
    """A dependency stayed down after retries; the caller may try again later."""

    code = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(DeclicError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


def internal_status(message: str = "internal error") -> status_pb2.Status:
    """Status for an unexpected exception: no internals leak to the caller."""
    return status_pb2.Status(code=code_pb2.INTERNAL, message=message)


def stats_reason(field_path: str, description: str) -> str:
    """The reason a refused field is counted under, in ingest's stats and in an import's summary alike:
    the path without indices and the description without details ("order.lines[].quantity: must be > 0")."""
    return f"{_INDEX.sub('[]', field_path)}: {description.split(' (')[0]}"
