"""Identifier hashing shared by every service that must recognise an erased person
without keeping their personal data (GDPR suppression records)."""

from __future__ import annotations

import hashlib


def identifier_hash(identifier_type: str, normalised_value: str) -> str:
    """sha256 hex of "<type>:<value>", e.g. identifier_hash("email", "ann@example.com").

    `identifier_type` is the lower-case name ("email", "phone", "loyalty_card", ...);
    the value must already be normalised (lower-cased e-mail, E.164 phone).
    """
    return hashlib.sha256(f"{identifier_type}:{normalised_value}".encode()).hexdigest()
