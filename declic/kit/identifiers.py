"""Identifiers, written once: the stored form of an e-mail, a phone, a loyalty card or an opaque id, and the hash
that recognises an erased person without keeping their personal data.

Ingest normalises what client systems send before it resolves identities; profile normalises what a call-center
tool types into a lookup ("06 12 34 56 78", "ab 1234"). Both call `normalise_identifier`, so the same person
typed two ways is the same identifier everywhere (tests/unit/kit/test_identifiers.py holds both to one table).
Repeated values (the same e-mail on every event of a customer) are cached: normalising is the costly part of
ingest.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import email_validator
import phonenumbers
from email_validator import syntax as email_syntax
from email_validator.rfc_constants import EMAIL_MAX_LENGTH, LOCAL_PART_MAX_LENGTH

from declic.kit.errors import quoted

IDENTIFIER_TYPES = ("email", "phone", "loyalty_card", "crm_id", "anonymous_id", "device_id")
MAX_OPAQUE_ID_LENGTH = 128

_PRINTABLE_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_LOYALTY_CARD = re.compile(r"^[A-Z0-9-]{1,64}$")
_PLAIN_ADDRESS = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$")  # ASCII, no quoting, no display name
_NATIONAL_PHONE = re.compile(r"^0[1-9][0-9 .-]*$")  # "0" then digits, spaces, dots, dashes: no "+", no extension


class InvalidIdentifier(ValueError):
    """The value cannot be read as an identifier of its type; `str(exc)` is the reason, e.g. "is required"."""


def normalise_identifier(identifier_type: str, raw: str, default_region: str) -> str:
    """The stored form of an identifier of `identifier_type` ("email", "phone", ...); national phone numbers are
    read in `default_region` ("FR"). Raises InvalidIdentifier with the reason."""
    if identifier_type not in IDENTIFIER_TYPES:
        raise InvalidIdentifier(f"is not an identifier type ({quoted(identifier_type)})")
    if not raw.strip():
        raise InvalidIdentifier("is required")
    if identifier_type == "email":
        return normalise_email(raw)
    if identifier_type == "phone":
        return normalise_phone(raw, default_region)
    if identifier_type == "loyalty_card":
        return normalise_loyalty_card(raw)
    return normalise_opaque_id(raw)


def normalise_email(raw: str) -> str:
    """A syntactically valid e-mail address, trimmed and lower-cased (no DNS lookup)."""
    value, reason = _email(raw)
    if reason:
        raise InvalidIdentifier(reason)
    return value


def normalise_phone(raw: str, default_region: str) -> str:
    """A valid phone number in E.164 ("+33612345678"); numbers without a country code use `default_region`."""
    value, reason = _phone(raw, default_region)
    if reason:
        raise InvalidIdentifier(reason)
    return value


def normalise_loyalty_card(raw: str) -> str:
    """A loyalty card number: spaces removed, upper-cased, letters, digits and '-' only (" ab 12-3" → "AB12-3")."""
    value = raw.replace(" ", "").upper()
    if not value:
        raise InvalidIdentifier("is required")
    if not _LOYALTY_CARD.match(value):
        raise InvalidIdentifier("must be 1-64 letters, digits or '-'")
    return value


def normalise_opaque_id(raw: str) -> str:
    """A CRM, anonymous or device id: trimmed, otherwise kept as sent, but printable ASCII without spaces, at most
    128 characters."""
    if raw.isascii() and raw.isalnum() and len(raw) <= MAX_OPAQUE_ID_LENGTH:  # the common case: no pattern needed
        return raw
    value = raw.strip()
    if not value:
        raise InvalidIdentifier("is required")
    if not _PRINTABLE_ID.match(value):
        raise InvalidIdentifier("must be 1-128 printable ASCII characters without spaces")
    return value


def identifier_hash(identifier_type: str, normalised_value: str) -> str:
    """sha256 hex of "<type>:<value>", e.g. identifier_hash("email", "ann@example.com"): what GDPR suppression
    records keep. `identifier_type` is the lower-case name; the value must already be normalised."""
    return hashlib.sha256(f"{identifier_type}:{normalised_value}".encode()).hexdigest()


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
