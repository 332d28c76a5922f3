"""Ingest's gRPC face: translate protobuf ↔ service calls, nothing more."""

from __future__ import annotations

import grpc

from declic.common.v1 import identity_pb2
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.errors import InvalidArgument
from declic.kit.framing import varint as _length
from declic.kit.protoconv import identifier_type_name, to_datetime
from services.ingest.grpc_lists import STATUS, audit_page, identifier_to_proto, stats_page
from services.ingest.service import IngestService
from services.ingest.writer.calls import ACCEPTED, DUPLICATE, REJECTED, Outcome

STATUS_NAMES = {value: name for name, value in STATUS.items()}


def result_fields(index: int, event_id: str, outcome: Outcome, prefix: str) -> dict:
    """The EventResult of one outcome, as constructor arguments (empty lists left out: it is the hot path)."""
    fields = {"index": index, "event_id": event_id, "status": STATUS[outcome.status],
              "customer_id": outcome.customer_id}
    if outcome.errors:
        fields["errors"] = [ingest_pb2.FieldError(field=f"{prefix}.{path}", description=why)
                            for path, why in outcome.errors]
    if outcome.warnings:
        fields["warnings"] = outcome.warnings
    return fields


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, service: IngestService) -> None:
        self._service = service

    def IngestEvent(self, request: ingest_pb2.IngestEventRequest, context: grpc.ServicerContext):
        if not request.HasField("event"):
            raise InvalidArgument.field("event", "is required")
        [outcome] = self._service.ingest([request.event])
        result = ingest_pb2.EventResult(**result_fields(0, request.event.event_id, outcome, "event"))
        return ingest_pb2.IngestEventResponse(result=result)

    def IngestBatch(self, request: ingest_pb2.IngestBatchRequest, context: grpc.ServicerContext):
        self._check_size("events", len(request.events), request.ByteSize())
        outcomes = self._service.ingest(request.events)
        return ingest_pb2.IngestBatchResponse.FromString(
            batch_answer([e.event_id for e in request.events], outcomes, "events"))

    def UpsertProducts(self, request: ingest_pb2.UpsertProductsRequest, context: grpc.ServicerContext):
        self._check_size("products", len(request.products), request.ByteSize())
        updated_at = to_datetime(request.updated_at) if request.HasField("updated_at") else None
        outcomes = self._service.upsert_products(request.source, request.products, updated_at)
        # The event ids are ingest's own: the caller knows its products by position.
        answer = _answer(ingest_pb2.UpsertProductsResponse(), [""] * len(outcomes), outcomes, "products")
        for result in answer.results:
            for error in result.errors:
                error.field = error.field.replace(".product_upsert.", ".", 1)
        return answer

    def _check_size(self, name: str, count: int, size: int) -> None:
        limits = self._service.settings
        if count == 0:
            raise InvalidArgument.field(name, "at least one is required")
        if count > limits.max_batch_events:
            raise InvalidArgument.field(name, f"at most {limits.max_batch_events} per request (got {count})")
        if size > limits.max_batch_bytes:
            raise InvalidArgument.field(name, f"a request must be at most {limits.max_batch_bytes} bytes (got {size})")

    def GetIngestStats(self, request: ingest_pb2.GetIngestStatsRequest, context: grpc.ServicerContext):
        return stats_page(self._service, request)

    def SplitCustomer(self, request: ingest_pb2.SplitCustomerRequest, context: grpc.ServicerContext):
        if not request.customer_id:
            raise InvalidArgument.field("customer_id", "is required")
        identifiers = [_identifier(i, f"identifiers[{n}]") for n, i in enumerate(request.identifiers)]
        split = self._service.split(request.customer_id, identifiers, request.reason)
        return ingest_pb2.SplitCustomerResponse(
            from_customer_id=split.from_customer_id, new_customer_id=split.new_customer_id,
            identifiers=[identifier_to_proto(i) for i in split.identifiers],
        )

    def GetCustomerIdentity(self, request: ingest_pb2.GetCustomerIdentityRequest, context: grpc.ServicerContext):
        if request.HasField("identifier"):
            customer_id, identifiers = self._service.identity(identifier=_identifier(request.identifier, "identifier"))
        elif request.customer_id:
            customer_id, identifiers = self._service.identity(customer_id=request.customer_id)
        else:
            raise InvalidArgument.field("customer_id", "a customer id or an identifier is required")
        return ingest_pb2.GetCustomerIdentityResponse(
            customer_id=customer_id, identifiers=[identifier_to_proto(i) for i in identifiers]
        )

    def ListIdentityAudit(self, request: ingest_pb2.ListIdentityAuditRequest, context: grpc.ServicerContext):
        return audit_page(self._service, request)


def _identifier(identifier: identity_pb2.Identifier, path: str) -> tuple[str, str]:
    if identifier.type == identity_pb2.IDENTIFIER_TYPE_UNSPECIFIED:
        raise InvalidArgument.field(f"{path}.type", "is required")
    if not identifier.value:
        raise InvalidArgument.field(f"{path}.value", "is required")
    return identifier_type_name(identifier.type), identifier.value


def _answer(response, ids: list[str], outcomes: list[Outcome], prefix: str):  # type: ignore[no-untyped-def]
    """Fill a batch response (IngestBatchResponse or UpsertProductsResponse): one result per outcome, counts."""
    add = response.results.add
    for index, (event_id, outcome) in enumerate(zip(ids, outcomes, strict=True)):
        add(**result_fields(index, event_id, outcome, f"{prefix}[{index}]"))
    statuses = [outcome.status for outcome in outcomes]
    response.accepted, response.duplicates = statuses.count(ACCEPTED), statuses.count(DUPLICATE)
    response.rejected = statuses.count(REJECTED)
    return response


_STATUS_FIELD = {status: b"\x18" + bytes([number]) for status, number in STATUS.items()}  # field 3, varint


def _text(tag: bytes, value: str) -> bytes:
    data = value.encode()
    return tag + _length(len(data)) + data


def batch_answer(ids: list[str], outcomes: list[Outcome], prefix: str) -> bytes:
    """An IngestBatchResponse, serialized: one EventResult per outcome, then the counts.

    Written field by field, as protobuf would (a unit test holds them equal): building a message per event
    cost more than the rest of the answer.
    """
    parts = []
    counts = {ACCEPTED: 0, DUPLICATE: 0, REJECTED: 0}
    for index, (event_id, outcome) in enumerate(zip(ids, outcomes, strict=True)):
        counts[outcome.status] += 1
        result = (b"\x08" + _length(index) if index else b"") + (_text(b"\x12", event_id) if event_id else b"") \
            + _STATUS_FIELD[outcome.status] + (_text(b"\x22", outcome.customer_id) if outcome.customer_id else b"")
        for path, why in outcome.errors:
            error = _text(b"\x0a", f"{prefix}[{index}].{path}") + (_text(b"\x12", why) if why else b"")
            result += b"\x2a" + _length(len(error)) + error
        for warning in outcome.warnings:
            result += _text(b"\x32", warning)
        parts.append(b"\x0a" + _length(len(result)) + result)
    for tag, status in ((b"\x10", ACCEPTED), (b"\x18", DUPLICATE), (b"\x20", REJECTED)):
        if counts[status]:
            parts.append(tag + _length(counts[status]))
    return b"".join(parts)
