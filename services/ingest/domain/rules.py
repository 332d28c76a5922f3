"""Validation and normalisation rules for single values (e-mails, phones, money, ...).

Each rule returns the normalised value or raises `RuleViolation` with the reason
the caller shows next to the field path. Repeated values (the same e-mail on
every event of a customer) are cached: normalising is the costly part of ingest.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

import email_validator
import phonenumbers
from email_validator import syntax as email_syntax
from email_validator.rfc_constants import EMAIL_MAX_LENGTH, LOCAL_PART_MAX_LENGTH

from services.ingest.domain.currencies import ISO_4217

MAX_ID_LENGTH = 128
MAX_QUANTITY = 100_000
MAX_UNITS = 10**12  # a trillion in any currency: beyond, a unit or parsing error upstream
NANOS_PER_UNIT = 1_000_000_000

_SOURCE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_PRINTABLE_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_LOYALTY_CARD = re.compile(r"^[A-Z0-9-]{1,64}$")
_LOCALE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$")
_PLAIN_ADDRESS = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$")  # ASCII, no quoting, no display name
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


def normalise_email(raw: str) -> str:
    """A syntactically valid e-mail address, lower-cased (no DNS lookup)."""
    value, reason = _email(raw)
    if reason:
        raise RuleViolation(reason)
    return value


@lru_cache(maxsize=200_000)
def _email(raw: str) -> tuple[str, str]:
    address = raw.strip()
    try:
        if _PLAIN_ADDRESS.match(address):
            # The common case, checked by email-validator's own rules, with the costly domain part cached.
            local, domain = address.rsplit("@", 1)
            email_syntax.validate_email_local_part(local)
            normalized = f"{local}@{_email_domain(domain)}"
            if len(local) > LOCAL_PART_MAX_LENGTH or len(normalized) > EMAIL_MAX_LENGTH:
                raise email_validator.EmailSyntaxError("The email address is too long.")
        else:
            normalized = email_validator.validate_email(address, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        return "", f"is not a valid e-mail address ({exc})"
    return normalized.lower(), ""


@lru_cache(maxsize=20_000)
def _email_domain(domain: str) -> str:
    return str(email_syntax.validate_email_domain_name(domain)["domain"])


def normalise_phone(raw: str, default_region: str) -> str:
    """A valid phone number in E.164 ("+33612345678"); numbers without a country code use `default_region`."""
    value, reason = _phone(raw, default_region)
    if reason:
        raise RuleViolation(reason)
    return value


@lru_cache(maxsize=200_000)
def _phone(raw: str, default_region: str) -> tuple[str, str]:
    national = _national_phone(raw, default_region)
    if national is not None:
        return national, ""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return "", "is not a phone number"
    if not phonenumbers.is_valid_number(number):
        return "", f"is not a valid phone number (read with default region {default_region})"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


_NATIONAL_PHONE = re.compile(r"^0[1-9][0-9 .-]*$")  # "0" then digits, spaces, dots, dashes: no "+", no extension


@lru_cache(maxsize=256)
def _plain_dialling_plan(region: str) -> tuple[int, re.Pattern[str]] | None:
    """(country code, international prefix) of `region` when its national numbers are read as "0" + the
    significant number (France, Germany, Belgium, the Netherlands, Switzerland ...); None for any other plan."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None or metadata.national_prefix != "0" \
            or metadata.national_prefix_for_parsing != "0" or metadata.national_prefix_transform_rule \
            or not metadata.international_prefix \
            or phonenumbers.region_code_for_country_code(metadata.country_code) != region:
        return None
    return metadata.country_code, re.compile(metadata.international_prefix)


def _national_phone(raw: str, region: str) -> str | None:
    """The E.164 form of a valid national number of `region` written "06 12 34 56 78" (spaces, dots or dashes):
    what phonenumbers' parser gives, at a third of its cost (unit tests hold them equal). None when the
    number is written any other way, or is not valid: the parser then decides, and explains."""
    plan = _plain_dialling_plan(region)
    if plan is None or not _NATIONAL_PHONE.match(raw):
        return None
    country, international_prefix = plan
    digits = raw.replace(" ", "").replace(".", "").replace("-", "")
    if not 3 <= len(digits) <= 18 or international_prefix.match(digits):  # "00…", "019…": a call abroad
        return None
    significant = digits[1:]
    number = phonenumbers.PhoneNumber(country_code=country, national_number=int(significant))
    # The parser drops the "0" only when what remains has a length numbers of the region can have.
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE \
            or not phonenumbers.is_valid_number(number):
        return None
    return f"+{country}{significant}"


def normalise_loyalty_card(raw: str) -> str:
    """A loyalty card number: spaces removed, upper-cased, letters, digits and '-' only."""
    value = raw.replace(" ", "").upper()
    if not value:
        raise RuleViolation("is required")
    if not _LOYALTY_CARD.match(value):
        raise RuleViolation("must be 1-64 letters, digits or '-'")
    return value


def normalise_opaque_id(raw: str) -> str:
    """A CRM, anonymous or device id: kept as sent, but printable, without spaces, at most 128 characters."""
    if raw.isascii() and raw.isalnum():  # the common case: no pattern needed
        return raw if len(raw) <= MAX_ID_LENGTH else _opaque_id_slow(raw)
    return _opaque_id_slow(raw)


def _opaque_id_slow(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise RuleViolation("is required")
    if not _PRINTABLE_ID.match(value):
        raise RuleViolation("must be 1-128 printable ASCII characters without spaces")
    return value


def normalise_identifier(identifier_type: str, raw: str, default_region: str) -> str:
    """The normalised value of an identifier of `identifier_type` ("email", "phone", ...)."""
    if not raw.strip():
        raise RuleViolation("is required")
    if identifier_type == "email":
        return normalise_email(raw)
    if identifier_type == "phone":
        return normalise_phone(raw, default_region)
    if identifier_type == "loyalty_card":
        return normalise_loyalty_card(raw)
    return normalise_opaque_id(raw)


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
