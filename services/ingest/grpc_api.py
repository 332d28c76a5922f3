"""Ingest's gRPC face: translate protobuf ↔ service calls, nothing more."""

from __future__ import annotations

import grpc

from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.errors import InvalidArgument
from services.ingest.batch import ACCEPTED, DUPLICATE, REJECTED, Outcome
from services.ingest.service import IngestService

STATUS = {
    ACCEPTED: ingest_pb2.EVENT_STATUS_ACCEPTED,
    DUPLICATE: ingest_pb2.EVENT_STATUS_DUPLICATE,
    REJECTED: ingest_pb2.EVENT_STATUS_REJECTED,
}
STATUS_NAMES = {value: name for name, value in STATUS.items()}


def result_to_proto(index: int, event_id: str, outcome: Outcome, prefix: str) -> ingest_pb2.EventResult:
    return ingest_pb2.EventResult(
        index=index,
        event_id=event_id,
        status=STATUS[outcome.status],
        customer_id=outcome.customer_id,
        errors=[ingest_pb2.FieldError(field=f"{prefix}.{path}", description=why) for path, why in outcome.errors],
        warnings=outcome.warnings,
    )


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, service: IngestService) -> None:
        self._service = service

    def IngestEvent(self, request: ingest_pb2.IngestEventRequest, context: grpc.ServicerContext):
        if not request.HasField("event"):
            raise InvalidArgument.field("event", "is required")
        [outcome] = self._service.ingest([request.event])
        return ingest_pb2.IngestEventResponse(result=result_to_proto(0, request.event.event_id, outcome, "event"))

    def IngestBatch(self, request: ingest_pb2.IngestBatchRequest, context: grpc.ServicerContext):
        limits = self._service.settings
        if not request.events:
            raise InvalidArgument.field("events", "at least one event is required")
        if len(request.events) > limits.max_batch_events:
            raise InvalidArgument.field("events", f"at most {limits.max_batch_events} events per batch "
                                        f"(got {len(request.events)})")
        size = request.ByteSize()
        if size > limits.max_batch_bytes:
            raise InvalidArgument.field("events", f"a batch must be at most {limits.max_batch_bytes} bytes "
                                        f"(got {size})")
        outcomes = self._service.ingest(request.events)
        results = [result_to_proto(i, e.event_id, o, f"events[{i}]")
                   for i, (e, o) in enumerate(zip(request.events, outcomes, strict=True))]
        counts = {status: sum(1 for o in outcomes if o.status == status) for status in STATUS}
        return ingest_pb2.IngestBatchResponse(
            results=results, accepted=counts[ACCEPTED], duplicates=counts[DUPLICATE], rejected=counts[REJECTED]
        )

    def GetIngestStats(self, request: ingest_pb2.GetIngestStatsRequest, context: grpc.ServicerContext):
        rows = self._service.stats(request.source)
        return ingest_pb2.GetIngestStatsResponse(rows=[
            ingest_pb2.IngestStatsRow(source=source, status=STATUS[status], reason=reason, count=count)
            for source, status, reason, count in rows
        ])
