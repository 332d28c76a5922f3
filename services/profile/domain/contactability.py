"""Contactability: may a channel be used now? A valid address + consent + not bounced or blocked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.profile.domain.consents import Consent
from services.profile.domain.identifiers import CHANNEL_ADDRESS_TYPE, CHANNELS

POSTAL_ADDRESS_ATTRIBUTE = "postal_address"


@dataclass(frozen=True)
class Contactability:
    channel: str
    contactable: bool
    address: str
    reason: str  # why not, or why yes ("consent granted (consent, web-signup-form)")


def channel_addresses(identifiers: Sequence[tuple[str, str]], attributes: Mapping[str, str]) -> dict[str, list[str]]:
    """The addresses a person has on each channel, from their identifiers and postal attribute."""
    addresses: dict[str, list[str]] = {channel: [] for channel in CHANNELS}
    for channel, identifier_type in CHANNEL_ADDRESS_TYPE.items():
        addresses[channel] = sorted(value for kind, value in identifiers if kind == identifier_type)
    postal = attributes.get(POSTAL_ADDRESS_ATTRIBUTE, "").strip()
    if postal:
        addresses["print"] = [postal]
    return addresses


def contactability(
    channel: str, addresses: Sequence[str], consent: Consent | None, blocked: Mapping[str, str]
) -> Contactability:
    """Whether `channel` may be used: the first address not blocked, with a granted consent.

    `blocked` maps an address to why it is blocked ("bounced", "complained").
    """
    if not addresses:
        return Contactability(channel, False, "", "no address")
    usable = [address for address in addresses if address not in blocked]
    if not usable:
        return Contactability(channel, False, addresses[0], blocked[addresses[0]])
    if consent is None:
        return Contactability(channel, False, usable[0], "no consent")
    if not consent.granted:
        return Contactability(channel, False, usable[0], f"consent denied ({consent.source or 'unknown source'})")
    basis = consent.legal_basis or "consent"
    return Contactability(channel, True, usable[0], f"consent granted ({basis}, {consent.source or 'unknown source'})")


def contactability_by_channel(
    identifiers: Sequence[tuple[str, str]],
    attributes: Mapping[str, str],
    consents: Mapping[str, Consent],
    blocked: Mapping[tuple[str, str], str],
) -> dict[str, Contactability]:
    """Contactability of every channel; `blocked` is keyed by (channel, address)."""
    addresses = channel_addresses(identifiers, attributes)
    result = {}
    for channel in CHANNELS:
        channel_blocks = {address: why for (blocked_channel, address), why in blocked.items()
                          if blocked_channel == channel}
        result[channel] = contactability(channel, addresses[channel], consents.get(channel), channel_blocks)
    return result
