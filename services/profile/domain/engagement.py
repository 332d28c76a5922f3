"""What a person's reaction to a message does beyond being counted: withdraw consent, block the address."""

from __future__ import annotations

from services.profile.domain.commands import ApplyEvent, RecordEngagement
from services.profile.domain.identifiers import CHANNEL_ADDRESS_TYPE

WITHDRAWING = {"unsubscribed": "unsubscribe link", "complained": "spam complaint"}
"""Engagements that withdraw consent on the channel, with the source the withdrawal is recorded under."""
BLOCKING = {"bounced", "complained"}
"""Engagements that make the address unusable on the channel."""


def blocks_every_address(command: ApplyEvent) -> bool:
    """Whether the event is a bounce or complaint naming no address: it then blocks every address the person
    has on the channel at that moment, so identifiers brought by their later events must come after it."""
    action = command.action
    if not isinstance(action, RecordEngagement) or action.kind not in BLOCKING:
        return False
    address_type = CHANNEL_ADDRESS_TYPE.get(action.channel)
    return not any(id_type == address_type for id_type, _ in command.context.identifiers)
