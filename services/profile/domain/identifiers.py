"""Identifier normalisation: the same person typed two ways must find the same profile.

Ingest normalises before handing off (lower-cased e-mails, E.164 phones);
lookups from call-center tools arrive as typed ("06 12 34 56 78",
"Ann@Example.COM"), so profile normalises them the same way.
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

IDENTIFIER_TYPES = ("email", "phone", "loyalty_card", "crm_id", "anonymous_id", "device_id")

# Which identifier gives the address of each channel. Print uses the
# "postal_address" attribute of the profile instead (see contactability).
CHANNEL_ADDRESS_TYPE = {"email": "email", "sms": "phone", "call_center": "phone", "push": "device_id"}
CHANNELS = ("email", "sms", "push", "print", "call_center")


class InvalidIdentifier(ValueError):
    """The value cannot be read as an identifier of that type; the message says why."""


def normalise_email(value: str) -> str:
    """"Ann.Lee@Example.COM " → "ann.lee@example.com" (syntax checked, no DNS lookup)."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidIdentifier(f"not a valid e-mail address: {exc}") from None


def normalise_phone(value: str, default_region: str) -> str:
    """"06 12 34 56 78" (region FR) or "+33 6 12 34 56 78" → "+33612345678" (E.164)."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier(f"not a valid phone number for region {default_region} or in international form")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_identifier(identifier_type: str, value: str, default_region: str) -> str:
    """The stored form of an identifier; raises InvalidIdentifier with the reason."""
    if identifier_type not in IDENTIFIER_TYPES:
        raise InvalidIdentifier(f"unknown identifier type {identifier_type!r}")
    if not value.strip():
        raise InvalidIdentifier("is empty")
    if identifier_type == "email":
        return normalise_email(value)
    if identifier_type == "phone":
        return normalise_phone(value, default_region)
    return value.strip()


def phone_timezone(e164: str) -> str | None:
    """The IANA zone of a phone number when its numbering plan has exactly one (+33 → Europe/Paris)."""
    from phonenumbers import timezone as phone_timezones

    try:
        zones = phone_timezones.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None
