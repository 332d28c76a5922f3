"""What readers produce, and the parsing helpers they share."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from declic.common.v1 import event_pb2, money_pb2


@dataclass(frozen=True)
class ImportItem:
    """One event to send, and the file rows (1 = first data row after the header) it was built from."""

    event: event_pb2.Event
    rows: tuple[int, ...]


@dataclass(frozen=True)
class RowProblem:
    """Rows that could not be turned into an event, and why (e.g. "Quantity: not a whole number")."""

    rows: tuple[int, ...]
    reason: str


class BadValue(ValueError):
    """A cell that cannot be read; the message names the column."""


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row) for each data row of a CSV file (plain or .gz), header first, UTF-8."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:  # type: ignore[operator]
        for number, row in enumerate(csv.DictReader(handle), start=1):
            yield number, {key.strip(): (value or "").strip() for key, value in row.items() if key}


def money(text: str, currency: str, column: str) -> money_pb2.Money:
    """"12.50" → Money(12, 500000000); the sign is kept (validation decides what is allowed)."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadValue(f"{column}: not a number ({text!r})") from None
    if not amount.is_finite():
        raise BadValue(f"{column}: not a number ({text!r})")
    units = int(amount)
    nanos = int((amount - units) * 1_000_000_000)
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def whole_number(text: str, column: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadValue(f"{column}: not a whole number ({text!r})") from None


def instant(text: str, column: str, zone: ZoneInfo | None = None) -> datetime:
    """An ISO 8601 date-time; without an offset it is read in `zone` (UTC when none)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadValue(f"{column}: not an ISO 8601 date-time ({text!r})") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or UTC)
    return value.astimezone(UTC)


def flag(text: str, column: str) -> bool:
    lowered = text.lower()
    if lowered in {"1", "true", "yes", "y"}:
        return True
    if lowered in {"", "0", "false", "no", "n"}:
        return False
    raise BadValue(f"{column}: not true/false ({text!r})")
