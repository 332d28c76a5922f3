"""Consents per channel: which record is in force, and what a merge keeps.

A consent in force is the most recent one (by the time it was given, not
the time Declic received it), so late events never overwrite newer choices.
On a tie, and on a merge of two people who turned out to be one, the most
restrictive choice wins: an unsubscribed identity never becomes subscribed
because it was merged with a subscribed one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

GRANTED = "granted"
DENIED = "denied"


@dataclass(frozen=True)
class Consent:
    """A consent (or its withdrawal) for one channel, with its proof."""

    channel: str
    state: str  # GRANTED or DENIED
    legal_basis: str  # "consent", "contract", "legitimate_interest", "legal_obligation" or ""
    source: str
    given_at: datetime

    @property
    def granted(self) -> bool:
        return self.state == GRANTED


def supersedes(candidate: Consent, current: Consent | None) -> bool:
    """True when `candidate` should replace `current` as the consent in force."""
    if current is None:
        return True
    if candidate.given_at != current.given_at:
        return candidate.given_at > current.given_at
    return candidate.state == DENIED and current.state == GRANTED


def fold_consents(in_force: Mapping[tuple[str, str], Consent],
                  received: Iterable[tuple[str, Consent]]) -> dict[tuple[str, str], Consent]:
    """Consents received in order — (customer id, consent) — against those `in_force`, keyed by (customer
    id, channel): the keys whose consent in force changes, with the consent that ends up in force."""
    changed: dict[tuple[str, str], Consent] = {}
    for customer_id, consent in received:
        key = (customer_id, consent.channel)
        if supersedes(consent, changed.get(key) or in_force.get(key)):
            changed[key] = consent
    return changed


def merge_consents(survivor: Consent | None, merged: Consent | None, merged_id: str) -> Consent | None:
    """The consent in force after merging two profiles: the most restrictive wins.

    When the result is a denial it takes the later of the two times, so that
    a grant given before the merge cannot revive it; only a newer explicit
    grant can.
    """
    if survivor is None or merged is None:
        return survivor or merged
    if survivor.state == merged.state:
        return survivor if survivor.given_at >= merged.given_at else merged
    denial = survivor if survivor.state == DENIED else merged
    latest = max(survivor.given_at, merged.given_at)
    source = denial.source if denial is survivor else f"merge of {merged_id}: {denial.source}"
    return replace(denial, given_at=latest, source=source)
