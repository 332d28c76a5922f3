"""What crosses the pipes between the gRPC process and the writer process, as plain tuples (pickled).

To the writer: what it needs of each valid event — key, kind, identifiers, event time, product ids, warnings
and the serialized payload — and of a refused one only its reasons. Back: each call's outcomes, or the error
of its transaction.
"""

from __future__ import annotations

import pickle

from declic.common.v1 import event_pb2
from declic.kit.errors import DeclicError, Unavailable
from services.ingest.validation import ValidatedEvent
from services.ingest.writer.calls import Outcome, Submission

_PROTOCOL = pickle.HIGHEST_PROTOCOL
_OK, _FAILED = 0, 1


def encode_submission(call_id: int, submission: Submission) -> bytes:
    events = [
        (e.index, e.key, e.kind, e.identifiers, e.event_time, e.product_ids, e.warnings, e.payload) if not e.errors
        else (e.index, e.key, e.errors)
        for e in submission.events
    ]
    return pickle.dumps((call_id, submission.received_at, submission.trace_context, events), _PROTOCOL)


_NO_EVENT = event_pb2.Event()


def decode_submission(data: bytes) -> tuple[int, Submission]:
    call_id, received_at, trace_context, wire_events = pickle.loads(data)  # noqa: S301 - our own pipe
    events = []
    for wire in wire_events:
        if len(wire) == 3:
            index, key, errors = wire
            events.append(ValidatedEvent(index, _NO_EVENT, key, errors=errors))
            continue
        index, key, kind, identifiers, event_time, product_ids, warnings, payload = wire
        # The writer reads the message itself only for catalogue changes (rare): parsed again for those.
        event = event_pb2.Event.FromString(payload) if kind == "product_upsert" else _NO_EVENT
        events.append(ValidatedEvent(index, event, key, kind, identifiers, event_time, product_ids, [], warnings,
                                     payload))
    return call_id, Submission(events, received_at, trace_context)


def encode_outcomes(call_id: int, outcomes: list[Outcome]) -> bytes:
    wire = [(o.status, o.customer_id, o.new_customer, o.errors, o.warnings) for o in outcomes]
    return pickle.dumps((call_id, _OK, wire), _PROTOCOL)


def encode_failure(call_id: int, exc: BaseException) -> bytes:
    """A transaction's error: a DeclicError as it is (its status reaches the client), anything else as
    UNAVAILABLE with its kind (the writer logged it)."""
    if not isinstance(exc, DeclicError):
        exc = Unavailable(f"the ingest writer failed ({type(exc).__name__}); retry later")
    try:
        return pickle.dumps((call_id, _FAILED, exc), _PROTOCOL)
    except Exception:  # noqa: BLE001 - an error that does not pickle
        return pickle.dumps((call_id, _FAILED, Unavailable(str(exc))), _PROTOCOL)


def decode_answer(data: bytes) -> tuple[int, list[Outcome] | BaseException]:
    call_id, state, body = pickle.loads(data)  # noqa: S301 - our own pipe
    if state == _FAILED:
        return call_id, body
    return call_id, [Outcome(status, customer, new, errors, warnings) for status, customer, new, errors, warnings
                     in body]
