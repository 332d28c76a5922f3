"""Messages: one per firing and channel, composed from the firing's template and variables."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from services.dispatch.domain.templates import Template, render, template_for


class DeliveryState(Enum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"


@dataclass(frozen=True)
class Message:
    """A message as recorded and delivered: rendered, addressed, in a delivery state."""

    message_id: str
    customer_id: str
    channel: str
    scenario_id: str
    firing_id: str
    address: str
    subject: str
    body: str
    state: DeliveryState
    created_at: datetime


@dataclass
class SendOrder:
    """What the arbiter allowed: one firing, one channel, one address."""

    firing_id: str
    scenario_id: str
    customer_id: str
    channel: str
    address: str
    template_id: str
    variables: dict[str, str] = field(default_factory=dict)


def message_id_for(firing_id: str, channel: str) -> str:
    """One message per (firing, channel): the exactly-once key of a delivery."""
    return hashlib.sha256(f"{firing_id}|{channel}".encode()).hexdigest()[:32]


def compose(order: SendOrder, now: datetime, templates: dict[str, Template] | None = None) -> Message:
    """The message to deliver for `order`, rendered with its variables."""
    subject, body = render(template_for(order.template_id, templates), order.variables)
    return Message(
        message_id=message_id_for(order.firing_id, order.channel),
        customer_id=order.customer_id,
        channel=order.channel,
        scenario_id=order.scenario_id,
        firing_id=order.firing_id,
        address=order.address,
        subject=subject,
        body=body,
        state=DeliveryState.SENT,
        created_at=now,
    )
