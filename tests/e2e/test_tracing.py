"""One trace follows one event across every service, through the stream and the firing table."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from declic.kit.config import SERVICES
from tests.e2e.conftest import eventually
from tests.e2e.test_first_event import ingest, messages_of, signup

pytestmark = pytest.mark.e2e


def spans(var_dir: Path) -> list[dict]:
    found = []
    for service in SERVICES:
        path = var_dir / f"traces-{service}.jsonl"
        if path.exists():
            found += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return found


def test_one_trace_from_ingest_to_dispatch(stack, channel_to) -> None:
    email = f"traced.{uuid.uuid4().hex[:6]}@example.com"
    result = ingest(channel_to, signup(email=email))
    eventually(lambda: messages_of(channel_to, result.customer_id))
    folder = stack.settings.var_dir.parent

    def trace_of_the_event() -> set[str] | None:
        every = spans(folder)
        [ingest_span] = [s for s in every if s["name"] == "/declic.ingest.v1.IngestService/IngestEvent"
                         and s["kind"] == "SpanKind.SERVER"] or [None]
        if ingest_span is None:
            return None
        trace_id = ingest_span["context"]["trace_id"]
        services = {s["resource"]["attributes"]["service.name"] for s in every if s["context"]["trace_id"] == trace_id}
        names = {s["name"] for s in every if s["context"]["trace_id"] == trace_id}
        wanted = {"declic-ingest", "declic-profile", "declic-scenario", "declic-arbiter", "declic-dispatch"}
        return names if wanted <= services else None

    names = eventually(trace_of_the_event, timeout=15)
    assert "/declic.dispatch.v1.DispatchService/SendMessage" in names
    assert "firing.deliver" in names and "handoff.apply accepted_event" in names
    # no personal data in any span
    assert email not in json.dumps(spans(folder))
