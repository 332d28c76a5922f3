"""Messages and their rendering (Jinja2 sandbox: templates are marketer data)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from jinja2.sandbox import SandboxedEnvironment


class DeliveryState(Enum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"


@dataclass(frozen=True)
class Template:
    template_id: str
    subject: str
    body: str


@dataclass(frozen=True)
class Message:
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


BUILT_IN_TEMPLATES = {
    "welcome": Template(
        "welcome",
        subject="Welcome{% if first_name %}, {{ first_name }}{% endif %}!",
        body="Hello {{ first_name or 'there' }}, thank you for joining us. Here is your welcome offer.",
    ),
    "generic": Template("generic", subject="News for you", body="Hello {{ first_name or 'there' }}."),
}

_environment = SandboxedEnvironment(autoescape=False)


def message_id_for(firing_id: str, channel: str) -> str:
    """One message per (firing, channel): the exactly-once key of a delivery."""
    return hashlib.sha256(f"{firing_id}|{channel}".encode()).hexdigest()[:32]


def render(template: Template, variables: dict[str, str]) -> tuple[str, str]:
    """Subject and body of `template` filled with `variables` (sandboxed: no code runs)."""
    subject = _environment.from_string(template.subject).render(**variables)
    body = _environment.from_string(template.body).render(**variables)
    return subject, body


def compose(order: SendOrder, now: datetime, templates: dict[str, Template] | None = None) -> Message:
    """The message to deliver for `order`, rendered with its variables."""
    catalogue = templates or BUILT_IN_TEMPLATES
    template = catalogue.get(order.template_id) or catalogue["generic"]
    subject, body = render(template, order.variables)
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
