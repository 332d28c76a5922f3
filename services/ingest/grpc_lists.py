"""Ingest's list answers, page by page: the identity audit trail (three lists under one token) and the stats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from declic.common.v1 import identity_pb2
from declic.ingest.v1 import ingest_pb2
from declic.kit.errors import InvalidArgument
from declic.kit.paging import MAX_PAGE_BYTES, cut_page, encode_token, fill_page, page_request
from declic.kit.protoconv import identifier_type_enum, to_timestamp
from services.ingest.service import AuditPosition, IngestService
from services.ingest.writer.calls import ACCEPTED, DUPLICATE, REJECTED

STATUS = {
    ACCEPTED: ingest_pb2.EVENT_STATUS_ACCEPTED,
    DUPLICATE: ingest_pb2.EVENT_STATUS_DUPLICATE,
    REJECTED: ingest_pb2.EVENT_STATUS_REJECTED,
}
STATS_ORDER = (str, str, str)
"""GetIngestStats' sort key: (source, status, reason)."""
AUDIT_ORDER = ((datetime, type(None)), (str, type(None)), (int, type(None)), (datetime, type(None)), (str, type(None)))
"""ListIdentityAudit's position: the last (merged_at, record_id) of merges, id of refusals, (split_at,
record_id) of splits, newest first; None where that list has ended."""


def identifier_to_proto(identifier: tuple[str, str]) -> identity_pb2.Identifier:
    return identity_pb2.Identifier(type=identifier_type_enum(identifier[0]), value=identifier[1])


def stats_page(service: IngestService, request: ingest_pb2.GetIngestStatsRequest) -> ingest_pb2.GetIngestStatsResponse:
    """One page of GetIngestStats; the refusal counts (a few reasons) come with every page."""
    page = page_request(request.page_size, request.page_token, STATS_ORDER, query=request.source)
    found = service.stats(request.source, page.fetch, page.after)
    rows, next_token = fill_page(found, page, lambda row: row[:3], lambda row: ingest_pb2.IngestStatsRow(
        source=row[0], status=STATUS[row[1]], reason=row[2], count=row[3]))
    return ingest_pb2.GetIngestStatsResponse(
        rows=rows, next_page_token=next_token,
        refusals=[ingest_pb2.RefusalCount(reason=reason, count=count) for reason, count in service.refusal_counts()],
    )


def audit_page(service: IngestService, request: ingest_pb2.ListIdentityAuditRequest
               ) -> ingest_pb2.ListIdentityAuditResponse:
    """One page of ListIdentityAudit: up to page_size of each kind; the token says where each kind stands."""
    if request.limit < 0:
        raise InvalidArgument.field("limit", "must be >= 0")
    page = page_request(request.page_size or request.limit, request.page_token, AUDIT_ORDER,
                        query=request.customer_id)
    found = service.audit(request.customer_id, page.fetch, _position(page.after))
    keys = (lambda m: (m.merged_at, m.record_id), lambda r: (r.id,), lambda s: (s.split_at, s.record_id))
    ended = ((None, None), (None,), (None, None))
    answer = ingest_pb2.ListIdentityAuditResponse()
    lists = (answer.merges, answer.refusals, answer.splits)
    next_key: list[Any] = []
    for rows, key, to_proto, target, none_left in zip(found, keys, (_merge, _refusal, _split), lists, ended,
                                                      strict=True):
        protos, more = cut_page(rows, page.size, to_proto, MAX_PAGE_BYTES // 3)
        target.extend(protos)
        next_key += key(rows[len(protos) - 1]) if more else none_left
    if any(value is not None for value in next_key):
        answer.next_page_token = encode_token(next_key, page.query)
    return answer


def _position(after: tuple[Any, ...] | None) -> AuditPosition:
    if after is None:
        return None, None, None
    merges, refusals, splits = after[0:2], after[2:3], after[3:5]
    return tuple(key if key[0] is not None else () for key in (merges, refusals, splits))  # type: ignore[return-value]


def _merge(m: Any) -> ingest_pb2.MergeAuditEntry:
    return ingest_pb2.MergeAuditEntry(
        record_id=m.record_id, survivor_id=m.survivor_id, merged_ids=m.merged_ids.split(),
        cause_source=m.cause_source, cause_event_id=m.cause_event_id, merged_at=to_timestamp(m.merged_at),
    )


def _refusal(r: Any) -> ingest_pb2.RefusedMerge:
    return ingest_pb2.RefusedMerge(
        reason=r.reason, customer_ids=r.customer_ids.split(),
        identifier_type=identifier_type_enum(r.identifier_type) if r.identifier_type else 0,
        cause_source=r.cause_source, cause_event_id=r.cause_event_id, refused_at=to_timestamp(r.refused_at),
    )


def _split(s: Any) -> ingest_pb2.SplitAuditEntry:
    return ingest_pb2.SplitAuditEntry(
        record_id=s.record_id, from_customer_id=s.from_customer_id, new_customer_id=s.new_customer_id,
        identifiers=[identifier_to_proto(tuple(line.split(":", 1))) for line in s.identifiers.splitlines()],
        reason=s.reason, split_at=to_timestamp(s.split_at),
    )
