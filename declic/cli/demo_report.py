"""What `declic demo` reports once the replay is in: what went out, on which channel, what the arbiter held back
and why, and what profile made of the customers. Everything is asked of the services over gRPC (and of the
hand-off stream, to know when profile has caught up)."""

from __future__ import annotations

import time
from collections import Counter

import grpc
import redis
from rich.console import Console
from rich.table import Table

from declic.cli.ingest_commands import print_summary
from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.importing.runner import ImportSummary
from declic.kit.paging import MAX_PAGE_SIZE, every_item
from declic.kit.protoconv import channel_name
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from declic.stack import Stack

PROFILE_GROUP = "profile"  # profile's consumer group on the hand-off stream, as `XINFO GROUPS` shows it

console = Console()


def wait_for_profile(client: redis.Redis, stream: str, timeout: float = 180) -> None:
    """Wait until profile has applied the whole replay (its group has read and acknowledged the stream's last
    entry): profile is the slowest consumer, and its segments should count every replayed order."""
    deadline = time.monotonic() + timeout
    with console.status("waiting for profile to apply the replay…"):
        while time.monotonic() < deadline:
            group = next((g for g in client.xinfo_groups(stream) if g["name"].decode() == PROFILE_GROUP), None)
            last = client.xrevrange(stream, count=1)
            if group and last and group["pending"] == 0 and group["last-delivered-id"] == last[0][0]:
                return
            time.sleep(0.5)
    console.print("[yellow]profile has not applied the whole replay yet: its figures below are partial[/yellow]")


def settle(scenario: scenario_pb2_grpc.ScenarioServiceStub, customer_ids: list[str], timeout: float = 90):
    """Wait until no firing is pending; return every firing."""
    deadline = time.monotonic() + timeout
    firings: list = []
    with console.status("waiting for scenario, arbiter and dispatch to settle…"):
        while time.monotonic() < deadline:
            firings = [
                f for c in customer_ids
                for f in every_item(scenario.ListFirings, scenario_pb2.ListFiringsRequest(customer_id=c), "firings",
                                    timeout=5)
            ]
            if firings and all(f.state != scenario_pb2.FIRING_STATE_PENDING for f in firings):
                break
            time.sleep(1)
    return firings


def profiles_table(stack: Stack) -> Table:
    """What profile made of the replayed history: customers per lifecycle stage, and who is overdue."""
    profile = profile_pb2_grpc.ProfileServiceStub(grpc.insecure_channel(stack.address("profile")))

    def count(segment: profile_pb2.Segment) -> int:
        request = profile_pb2.QuerySegmentRequest(segment=segment)
        return sum(len(batch.customer_ids) for batch in profile.QuerySegment(request, timeout=30))

    table = Table(title="Profiles at the end of the replay (segment queries on profile)")
    table.add_column("segment")
    table.add_column("customers", justify="right")
    for stage in profile_pb2.LifecycleStage.values():
        if stage == profile_pb2.LIFECYCLE_STAGE_UNSPECIFIED:
            continue
        name = profile_pb2.LifecycleStage.Name(stage).removeprefix("LIFECYCLE_STAGE_").lower().replace("_", " ")
        table.add_row(f"lifecycle: {name}", str(count(profile_pb2.Segment(lifecycle_stages=[stage]))))
    overdue = profile_pb2.Segment(repurchase_overdue=profile_pb2.RepurchaseOverdue(factor=1.2))
    table.add_row("repurchase overdue (> 1.2 × their usual interval)", str(count(overdue)))
    return table


def report(stack: Stack, summary: ImportSummary) -> None:
    """Print what ingest made of the replay, the messages sent, the firings held back and why, and the profiles."""
    scenario = scenario_pb2_grpc.ScenarioServiceStub(grpc.insecure_channel(stack.address("scenario")))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(grpc.insecure_channel(stack.address("dispatch")))
    customer_ids = sorted(summary.customers)
    firings = settle(scenario, customer_ids)
    messages = list(every_item(dispatch.ListMessages, dispatch_pb2.ListMessagesRequest(page_size=MAX_PAGE_SIZE),
                               "messages", timeout=30))

    console.print("[bold]Events through ingest[/bold] (UCI rows read by the importer, and the demo's sign-ups)")
    print_summary(summary, console)

    sent = Table(title="Messages sent, per scenario and channel")
    sent.add_column("scenario")
    sent.add_column("channel")
    sent.add_column("messages", justify="right")
    per_channel = Counter((m.scenario_id, channel_name(m.channel)) for m in messages)
    for (scenario_id, channel), count in sorted(per_channel.items()):
        sent.add_row(scenario_id, channel, str(count))
    console.print(sent)

    held = Table(title="Held back by the arbiter, and why")
    held.add_column("scenario")
    held.add_column("outcome")
    held.add_column("why")
    held.add_column("firings", justify="right")
    reasons = Counter(
        (f.firing.scenario_id, scenario_pb2.FiringState.Name(f.state).removeprefix("FIRING_STATE_").lower(), f.detail)
        for f in firings
        if f.state != scenario_pb2.FIRING_STATE_SENT
    )
    for (scenario_id, state, detail), count in sorted(reasons.items()):
        held.add_row(scenario_id, state, detail, str(count))
    console.print(held)
    console.print(profiles_table(stack))
    console.print(
        f"{len(firings)} firings for {len(customer_ids)} customers: {len(messages)} messages sent. "
        "(Opens, clicks, conversions and control-group uplift arrive with the dispatch KPIs.)"
    )
