"""What profile makes of a customer's identifiers: which one addresses each channel, which zone a phone is in.

Normalising identifiers (a lookup typed "06 12 34 56 78" or "ab 1234") is `declic.kit.identifiers`, the
rule ingest applies before it hands off.
"""

from __future__ import annotations

import phonenumbers

# Which identifier gives the address of each channel. Print uses the
# "postal_address" attribute of the profile instead (see contactability).
CHANNEL_ADDRESS_TYPE = {"email": "email", "sms": "phone", "call_center": "phone", "push": "device_id"}
CHANNELS = ("email", "sms", "push", "print", "call_center")


def phone_timezone(e164: str) -> str | None:
    """The IANA zone of a phone number when its numbering plan has exactly one (+33 → Europe/Paris)."""
    from phonenumbers import timezone as phone_timezones

    try:
        zones = phone_timezones.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None
