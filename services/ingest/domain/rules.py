"""Validation and normalisation rules for single values (sources, money, dates, ...).

Each rule returns the normalised value or raises `RuleViolation` with the reason
the caller shows next to the field path. Identifiers (e-mails, phones, loyalty
cards, ...) are normalised by `declic.kit.identifiers`, the one rule profile's
lookups use too.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from services.ingest.domain.currencies import ISO_4217

MAX_ID_LENGTH = 128
MAX_QUANTITY = 100_000
MAX_UNITS = 10**12  # a trillion in any currency: beyond, a unit or parsing error upstream
NANOS_PER_UNIT = 1_000_000_000

_SOURCE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_PRINTABLE_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_LOCALE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$")
_BIRTH_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class RuleViolation(ValueError):
    """A value breaks a rule; `str(exc)` is the reason, e.g. "must be > 0"."""


def check_source(source: str) -> str:
    """The sending system's name: lower-case letters, digits, '.', '_', '-', at most 64 characters."""
    if not source:
        raise RuleViolation("is required")
    if not _SOURCE.match(source):
        raise RuleViolation("must be 1-64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
    return source


def check_event_id(event_id: str) -> str:
    """The client's id of an event: printable ASCII without spaces, at most 128 characters."""
    if not event_id:
        raise RuleViolation("is required")
    if not _PRINTABLE_ID.match(event_id):
        raise RuleViolation("must be 1-128 printable ASCII characters without spaces")
    return event_id


def normalise_currency(code: str) -> str:
    """An ISO 4217 currency code, upper-cased."""
    if not code:
        raise RuleViolation("is required")
    upper = code.upper()
    if upper not in ISO_4217:
        raise RuleViolation(f"is not an ISO 4217 currency code ({code!r})")
    return upper


def check_amount(units: int, nanos: int, *, allow_negative: bool = False) -> None:
    """An amount as units + nanos (google.type.Money): same sign, |nanos| < 1e9, within range."""
    if not -NANOS_PER_UNIT < nanos < NANOS_PER_UNIT:
        raise RuleViolation("nanos must be between -999,999,999 and 999,999,999")
    if (units > 0 and nanos < 0) or (units < 0 and nanos > 0):
        raise RuleViolation("units and nanos must have the same sign")
    if not allow_negative and (units < 0 or nanos < 0):
        raise RuleViolation("must be >= 0")
    if abs(units) > MAX_UNITS:
        raise RuleViolation(f"must be at most {MAX_UNITS:,} units")


def check_quantity(quantity: int) -> None:
    """A line quantity: a whole number of items, 1 to 100,000."""
    if quantity <= 0:
        raise RuleViolation("must be > 0")
    if quantity > MAX_QUANTITY:
        raise RuleViolation(f"must be at most {MAX_QUANTITY:,}")


def check_line_total(quantity: int, unit_units: int) -> None:
    """A line's quantity × unit price stays within MAX_UNITS: every total downstream (in cents) fits 64 bits."""
    if quantity * unit_units > MAX_UNITS:
        raise RuleViolation(f"quantity × unit_price must be at most {MAX_UNITS:,} units")


def check_event_time(event_time: datetime | None, received_at: datetime, max_future: timedelta) -> None:
    """The time an event happened: required, not far in the future; late and out-of-order events are fine."""
    if event_time is None:
        raise RuleViolation("is required")
    if event_time > received_at + max_future:
        raise RuleViolation(f"is in the future (more than {int(max_future.total_seconds())} s after receipt)")


def check_birth_date(value: str) -> str:
    """ "YYYY-MM-DD", where the year may be "0000" when unknown."""
    match = _BIRTH_DATE.match(value)
    if not match:
        raise RuleViolation('must be "YYYY-MM-DD" (year "0000" when unknown)')
    year, month, day = (int(part) for part in match.groups())
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: "0000-02-29" is a valid birthday
    except ValueError:
        raise RuleViolation("is not a calendar date") from None
    return value


def check_locale(value: str) -> str:
    """A BCP 47 tag such as "fr-FR" (underscores are turned into hyphens)."""
    if not _LOCALE.match(value):
        raise RuleViolation('must be a BCP 47 language tag such as "fr-FR"')
    return value.replace("_", "-")


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: str) -> str:
    """An IANA time zone name such as "Europe/Paris"."""
    if value not in _time_zones():
        raise RuleViolation('must be an IANA time zone such as "Europe/Paris"')
    return value


def check_url(value: str) -> str:
    """An absolute http(s) URL."""
    if not value:
        raise RuleViolation("is required")
    if not value.startswith(("http://", "https://")) or len(value) > 4096:
        raise RuleViolation("must be an absolute http(s) URL of at most 4,096 characters")
    return value


def check_required_id(value: str, max_length: int = MAX_ID_LENGTH) -> str:
    """A required reference (product id, order id, ...): not blank, at most `max_length` characters."""
    if not value.strip():
        raise RuleViolation("is required")
    if len(value) > max_length:
        raise RuleViolation(f"must be at most {max_length} characters")
    if not value.isprintable():
        raise RuleViolation("must not contain control characters")
    return value.strip()
