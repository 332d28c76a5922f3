"""Helpers for the arbiter's integration tests: requests and policies."""

from __future__ import annotations

from datetime import timedelta

from declic.arbiter.v1 import arbiter_pb2
from declic.common.v1 import identity_pb2, trigger_pb2
from services.arbiter.domain.policy import Cap, Policy, PriorityRules, Window

EMAIL, SMS = identity_pb2.CHANNEL_EMAIL, identity_pb2.CHANNEL_SMS


def decide_request(firing_id: str, customer_id: str = "c-1", scenario_id: str = "s", priority: int = 0,
                   channels: tuple[int, ...] = (EMAIL,), contactable: tuple[int, ...] = (EMAIL, SMS),
                   cause_event_id: str = "", **more: object) -> arbiter_pb2.DecideRequest:
    return arbiter_pb2.DecideRequest(
        firing=trigger_pb2.TriggerFiring(firing_id=firing_id, scenario_id=scenario_id, customer_id=customer_id,
                                         channels=list(channels), priority=priority, cause_event_id=cause_event_id),
        contactable_channels=list(contactable), **more)


def capped(limit: int, hold: timedelta = timedelta(0), loser: str = "drop", **more: object) -> Policy:
    """One global rolling cap of `limit` per 7 days, an optional holding window."""
    return Policy(caps=(Cap(name="week", limit=limit, window=Window(rolling=timedelta(days=7))),),
                  priority=PriorityRules(holding_window=hold, default_loser=loser), **more)  # type: ignore[arg-type]
