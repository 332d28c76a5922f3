"""Telling the arbiter a message went out (its Confirm): the slot it reserved for the firing is then kept for good.

Every message dispatch records is confirmed once, after it is recorded, by a loop that retries while the arbiter
is down (`services/dispatch/confirmations.py`): a confirmation is never lost with the call that failed.
"""

from __future__ import annotations

from enum import Enum


class Confirmation(Enum):
    """Where telling the arbiter stands for one message."""

    PENDING = "pending"
    """Still to do (or to try again: the arbiter was unreachable)."""
    CONFIRMED = "confirmed"
    """The arbiter keeps the firing's slot for good."""
    UNDECIDED = "undecided"
    """The arbiter has no decision for the firing: the message was sent outside arbitration."""
    REFUSED = "refused"
    """The arbiter had not allowed the firing (a message went out that should not have: logged as an error)."""
