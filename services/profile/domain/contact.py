"""Applying contact updates so that the newest information wins whatever the arrival order.

Each field remembers when (event time) its value was set; an update only
replaces a field with a value from an event at least as recent. Empty
fields in an update mean "not provided", never "erase".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from services.profile.domain.commands import UpdateContact
from services.profile.domain.zones import is_known_zone

CONTACT_FIELDS = ("first_name", "last_name", "birth_date", "locale", "timezone")


@dataclass(frozen=True)
class ContactChanges:
    """The fields and attributes to store, and the new per-field times."""

    fields: dict[str, str]
    attributes: dict[str, str]
    field_times: dict[str, str]


def apply_contact_update(
    current_attributes: Mapping[str, str],
    field_times: Mapping[str, str],
    update: UpdateContact,
    event_time: datetime,
) -> ContactChanges:
    """What `update`, which happened at `event_time`, changes on a profile."""
    stamp = event_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # sortable as text
    times = dict(field_times)
    fields: dict[str, str] = {}
    for name in CONTACT_FIELDS:
        value = getattr(update, name)
        if name == "timezone" and value and not is_known_zone(value):
            continue  # a zone we cannot compute dates in would silently break "birthday today"
        if value and times.get(name, "") <= stamp:
            fields[name] = value
            times[name] = stamp
    attributes = dict(current_attributes)
    for key, value in update.attributes.items():
        time_key = f"attributes.{key}"
        if times.get(time_key, "") <= stamp:
            attributes[key] = value
            times[time_key] = stamp
    return ContactChanges(fields, attributes, times)


def fold_contact_updates(
    current_attributes: Mapping[str, str],
    field_times: Mapping[str, str],
    updates: Iterable[tuple[UpdateContact, datetime]],
) -> ContactChanges:
    """Several updates — (update, event time) — applied in the given order, as one change."""
    changes = ContactChanges({}, dict(current_attributes), dict(field_times))
    for update, event_time in updates:
        step = apply_contact_update(changes.attributes, changes.field_times, update, event_time)
        changes = ContactChanges({**changes.fields, **step.fields}, step.attributes, step.field_times)
    return changes


def birth_month_day(birth_date: str) -> tuple[int, int] | None:
    """(month, day) of an ISO date "YYYY-MM-DD" whose year may be "0000"; None when unreadable."""
    parts = birth_date.split("-")
    if len(parts) != 3:
        return None
    try:
        month, day = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    days_in_month = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month[month - 1]:
        return None
    return month, day


def merge_contact(ours: Mapping[str, str], our_attributes: Mapping[str, str], our_times: Mapping[str, str],
                  theirs: Mapping[str, str], their_attributes: Mapping[str, str],
                  their_times: Mapping[str, str]) -> ContactChanges:
    """Two profiles' contact details as one (a merge): each field and attribute keeps the value set by the most
    recent event of either profile; `fields` holds the survivor's fields that change."""
    times = dict(our_times)
    fields: dict[str, str] = {}
    for name in CONTACT_FIELDS:
        if theirs.get(name) and their_times.get(name, "") > times.get(name, ""):
            fields[name] = theirs[name]
            times[name] = their_times[name]
    attributes = dict(our_attributes)
    for key, value in their_attributes.items():
        time_key = f"attributes.{key}"
        if key not in attributes or their_times.get(time_key, "") > times.get(time_key, ""):
            attributes[key] = value
            times[time_key] = their_times.get(time_key, "")
    return ContactChanges(fields, attributes, times)
