"""Firing ↔ protobuf, shared by the gRPC API and the delivery worker."""

from __future__ import annotations

from declic.common.v1 import trigger_pb2
from declic.kit.protoconv import channel_enum, to_timestamp
from services.scenario.domain.firings import Firing


def firing_to_proto(firing: Firing, variables: dict[str, str] | None = None) -> trigger_pb2.TriggerFiring:
    """The TriggerFiring sent to arbiter and dispatch; `variables` overrides the stored ones."""
    return trigger_pb2.TriggerFiring(
        firing_id=firing.firing_id,
        scenario_id=firing.scenario_id,
        step_id=firing.step_id,
        customer_id=firing.customer_id,
        priority=firing.priority,
        channels=[channel_enum(c) for c in firing.channels],
        fired_at=to_timestamp(firing.fired_at),
        cause_event_id=firing.cause_event_id,
        template_id=firing.template_id,
        variables=firing.variables if variables is None else variables,
        transactional=firing.transactional,
    )
