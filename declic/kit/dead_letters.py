"""Dead letters: the records a consumer group could not apply, set aside with the reason, listed and replayed.

A consumer group's dead letters are a stream next to the one it reads, `<stream>:dead:<group>`, each entry the
record's own fields (`p`, or `f` for a damaged frame, or an unknown shape) plus where it came from and why. A hash,
`<stream>:dead-counts`, counts per group every record ever set aside: the figure an operator watches. A replay
appends the record again to its stream, marked for that group only (`FOR_GROUP_FIELD`: other groups skip it), and
removes it from the dead letters in the same transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis

log = logging.getLogger("declic.dead_letters")

FOR_GROUP_FIELD = b"for_group"
"""On a replayed entry: the only consumer group that is to handle it."""
SOURCE_ID_FIELD = b"source_id"
GROUP_FIELD = b"group"
CONSUMER_FIELD = b"consumer"
REASON_FIELD = b"reason"
_ABOUT_FIELDS = (SOURCE_ID_FIELD, GROUP_FIELD, CONSUMER_FIELD, REASON_FIELD, FOR_GROUP_FIELD)
_DEAD = ":dead:"


def dead_letter_key(stream: str, group: str) -> str:
    """The stream holding `group`'s dead letters of `stream`."""
    return f"{stream}{_DEAD}{group}"


def counts_key(stream: str) -> str:
    """The hash counting, per consumer group, the records of `stream` ever set aside."""
    return f"{stream}:dead-counts"


def set_aside(client: redis.Redis, stream: str, group: str, consumer: str, fields: dict[bytes, bytes],
              source_id: bytes, reason: str) -> None:
    """Append `fields` to the group's dead letters with where they came from and why, count it, log a WARNING;
    one transaction (the caller acknowledges the entry once nothing of it is left)."""
    about = {SOURCE_ID_FIELD: source_id, GROUP_FIELD: group.encode(), CONSUMER_FIELD: consumer.encode(),
             REASON_FIELD: reason.encode()}
    record = {key: value for key, value in fields.items() if key not in _ABOUT_FIELDS}
    with client.pipeline(transaction=True) as pipe:
        pipe.xadd(dead_letter_key(stream, group), cast(dict, {**record, **about}))
        pipe.hincrby(counts_key(stream), group, 1)
        pipe.execute()
    log.warning("dead letter: %s of %s set aside by group %s: %s", source_id.decode(), stream, group, reason)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record set aside."""

    stream: str
    """The stream it came from (and goes back to on replay)."""
    group: str
    dead_id: str
    """Its entry id among the group's dead letters (what `replay` takes)."""
    source_id: str
    """The entry it was read from, "#<n>" for the n-th record of a frame."""
    reason: str
    at: datetime
    fields: dict[bytes, bytes]


def dead_letter_streams(client: redis.Redis, prefix: str, group: str | None = None) -> list[tuple[str, str]]:
    """(stream, group) of every dead-letter stream under `prefix`, optionally of one group only, sorted."""
    pattern = _glob_escape(prefix) + ":*" + _DEAD + (_glob_escape(group) if group else "*")
    found = set()
    for key in client.scan_iter(match=pattern, count=1000, _type="STREAM"):
        stream, _, dead_group = (key.decode() if isinstance(key, bytes) else key).rpartition(_DEAD)
        found.add((stream, dead_group))
    return sorted(found)


def newest(client: redis.Redis, prefix: str, group: str | None = None, limit: int = 20) -> list[DeadLetter]:
    """Up to `limit` dead letters, newest first, of every group under `prefix` (or of `group`)."""
    found: list[DeadLetter] = []
    for stream, dead_group in dead_letter_streams(client, prefix, group):
        entries: Any = client.xrevrange(dead_letter_key(stream, dead_group), count=limit)
        found.extend(_dead_letter(stream, dead_group, entry_id, fields) for entry_id, fields in entries)
    found.sort(key=lambda letter: (letter.at, letter.dead_id), reverse=True)
    return found[:limit]


def counts(client: redis.Redis, prefix: str) -> dict[tuple[str, str], tuple[int, int]]:
    """Per (stream, group): (dead letters waiting now, records ever set aside)."""
    streams = {stream for stream, _ in dead_letter_streams(client, prefix)}
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    for stream in streams:
        groups: dict[bytes, bytes] = client.hgetall(counts_key(stream))  # type: ignore[assignment]
        for group, total in groups.items():
            name = group.decode()
            totals[(stream, name)] = (client.xlen(dead_letter_key(stream, name)), int(total))
    return totals


def replay(client: redis.Redis, stream: str, group: str, dead_ids: list[str] | None = None) -> int:
    """Append the group's dead letters (`dead_ids`, or all of them) to `stream` again, for that group only, and
    remove each from the dead letters in the same transaction; return how many were replayed. Ids no longer there
    (replayed already) are skipped, so a replay can be repeated."""
    key = dead_letter_key(stream, group)
    replayed = 0
    for entry_id, fields in _entries(client, key, dead_ids):
        record = {name: value for name, value in fields.items() if name not in _ABOUT_FIELDS}
        with client.pipeline(transaction=True) as pipe:
            pipe.xadd(stream, cast(dict, {**record, FOR_GROUP_FIELD: group.encode()}))
            pipe.xdel(key, entry_id)
            pipe.execute()
        replayed += 1
    return replayed


def _entries(client: redis.Redis, key: str, dead_ids: list[str] | None) -> Iterator[tuple[bytes, dict]]:
    if dead_ids is None:
        start = "-"
        while batch := cast(list[tuple[bytes, dict]], client.xrange(key, min=start, count=500)):
            yield from batch
            start = "(" + batch[-1][0].decode()
        return
    for dead_id in dead_ids:
        yield from cast(list[tuple[bytes, dict]], client.xrange(key, min=dead_id, max=dead_id))


def _dead_letter(stream: str, group: str, entry_id: bytes, fields: dict[bytes, bytes]) -> DeadLetter:
    dead_id = entry_id.decode()
    return DeadLetter(
        stream=stream,
        group=group,
        dead_id=dead_id,
        source_id=fields.get(SOURCE_ID_FIELD, b"").decode(errors="replace"),
        reason=fields.get(REASON_FIELD, b"").decode(errors="replace"),
        at=datetime.fromtimestamp(int(dead_id.split("-")[0]) / 1000, UTC),
        fields=fields,
    )


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
