"""Pressure counters in Redis: every slot a person's marketing messages hold, shared by every replica.

One Lua script per question (counters_lua.py), keyed by person, so a check-and-reserve is atomic
across replicas. The script counts, reserves and displaces against the limits the domain passes
(`domain.pressure.limits_for`); whether a count is too many, and what a refusal becomes, is the
domain's. When a person's slots are missing (Redis lost its data, or they were idle past the longest
window), the script says "rebuild" and the service mirrors them from PostgreSQL first (`load`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import hiredis
import redis

from services.arbiter.domain.arbitration import Reservation
from services.arbiter.domain.decisions import SlotState
from services.arbiter.domain.pressure import Limit
from services.arbiter.storage.counters_lua import CONFIRM, LOAD, RESERVE

_STATES = {"H": SlotState.HELD, "R": SlotState.RESERVED, "C": SlotState.CONFIRMED}
_CODES = {state: code for code, state in _STATES.items()}


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _instant(ms: str | bytes) -> datetime | None:
    value = int(ms)
    return datetime.fromtimestamp(value / 1000, UTC) if value > 0 else None


class RebuildNeeded(Exception):
    """The person's slots are not in Redis: mirror them from PostgreSQL, then ask again."""


@dataclass(frozen=True)
class Slot:
    """One slot as stored, for mirroring from PostgreSQL."""

    firing_id: str
    state: SlotState
    at: datetime
    channel: str
    category: str
    priority: int
    event: str
    hold_until: datetime | None


@dataclass(frozen=True)
class SlotAsk:
    """What one firing asks the counters for."""

    firing_id: str
    channel: str
    category: str
    priority: int
    event: str
    hold_until: datetime | None


class PressureCounters:
    """The person's slots; `ttl` is how long an idle person's slots are kept (the policy's longest window)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._reserve = client.register_script(RESERVE)
        self._load = client.register_script(LOAD)
        self._confirm = client.register_script(CONFIRM)

    def keys(self, customer_id: str) -> list[str]:
        tag = f"{self._prefix}:arbiter:{{{customer_id}}}"
        return [f"{tag}:slots", f"{tag}:displaced", f"{tag}:loaded"]

    def _args(self, customer_id: str, ask: SlotAsk, now: datetime, limits: Sequence[Limit], keep: timedelta,
              dry: bool, shared: dict[int, list[str | int]] | None = None) -> list[str | int]:
        """The script's ARGV. `shared`: the arguments already made for limits seen in this call, by identity (the
        caps and the gap are the same objects for a whole batch)."""
        now_ms = _ms(now)
        args: list[str | int] = [ask.firing_id, now_ms, "R" if ask.hold_until is None else "H",
                                 _ms(ask.hold_until) if ask.hold_until else 0, ask.channel, ask.category,
                                 ask.priority, ask.event, _ms(now - keep),
                                 int(keep.total_seconds()) + 86400, "1" if dry else "0", len(limits)]
        for limit in limits:
            made = shared.get(id(limit)) if shared is not None else None
            if made is None:
                made = [limit.kind, limit.value, _ms(limit.since), limit.limit]
                if shared is not None:
                    shared[id(limit)] = made
            args += made
        return args

    def reserve(self, customer_id: str, ask: SlotAsk, now: datetime, limits: Sequence[Limit],
                keep: timedelta) -> Reservation:
        """Check and reserve in one atomic step; RebuildNeeded when the person's slots are not loaded."""
        raw = self._reserve(keys=self.keys(customer_id), args=self._args(customer_id, ask, now, limits, keep, False))
        return parse(raw)

    def reserve_many(self, asks: Sequence[tuple[str, SlotAsk, Sequence[Limit]]], now: datetime,
                     keep: timedelta) -> list[Reservation | RebuildNeeded]:
        """Many reservations in one round trip, in order."""
        shared: dict[int, list[str | int]] = {}
        replies = self._run_many(RESERVE, self._reserve.sha, [
            (*self.keys(customer_id), *self._args(customer_id, ask, now, limits, keep, False, shared))
            for customer_id, ask, limits in asks])
        answers: list[Reservation | RebuildNeeded] = []
        for raw in replies:
            if isinstance(raw, Exception):
                raise raw
            try:
                answers.append(parse(raw))
            except RebuildNeeded as exc:
                answers.append(exc)
        return answers

    def _run_many(self, script: str, sha: str, calls: Sequence[Sequence[str | int]]) -> list:
        """The script once per call (its three keys, then its arguments) in one round trip (EVALSHA); the replies
        in order, errors included. redis-py's pipelined Script would first ask SCRIPT EXISTS (a round trip per
        pipeline); a server that lost the script (restarted) answers NOSCRIPT instead, and the whole lot is sent
        again once the script is loaded (nothing ran)."""
        for attempt in range(2):
            replies = self._send([("EVALSHA", sha, 3, *call) for call in calls])
            if attempt == 0 and any(isinstance(reply, redis.exceptions.NoScriptError) for reply in replies):
                self._client.script_load(script)
                continue
            break
        return replies

    def _send(self, commands: Sequence[tuple[str | int, ...]]) -> list:
        """The commands in one round trip, their replies in order (an error reply as its exception). Packed by
        hiredis itself: redis-py's pipeline spends three times as long per command (22 vs 7 us, min of 6). A
        connection that fails midway is closed, not handed out again half read."""
        pool = self._client.connection_pool
        connection = pool.get_connection()
        try:
            # (hiredis types its argument as a tuple of one value; it takes any number.)
            connection.send_packed_command([b"".join(hiredis.pack_command(command)  # type: ignore[arg-type]
                                                     for command in commands)])
            replies: list = []
            for _ in commands:
                try:
                    replies.append(connection.read_response())
                except redis.exceptions.ResponseError as error:
                    replies.append(error)
            return replies
        except BaseException:
            connection.disconnect()
            raise
        finally:
            pool.release(connection)

    def counts(self, customer_id: str, now: datetime, limits: Sequence[Limit], keep: timedelta) -> tuple[int, ...]:
        """How many slots each limit counts now (reserving nothing)."""
        ask = SlotAsk("", "", "", 0, "", None)
        return parse(self._reserve(keys=self.keys(customer_id),
                                   args=self._args(customer_id, ask, now, limits, keep, True))).counts

    def load(self, customer_id: str, slots: Sequence[Slot], displaced: Sequence[tuple[str, str]],
             keep: timedelta) -> bool:
        """Mirror the person's slots unless already mirrored; True when this call loaded them."""
        return bool(self._load(keys=self.keys(customer_id), args=self._load_args(slots, displaced, keep)))

    def load_many(self, mirrors: dict[str, tuple[list[Slot], list[tuple[str, str]]]], keep: timedelta) -> None:
        """`load` for many people in one round trip."""
        replies = self._run_many(LOAD, self._load.sha, [
            (*self.keys(customer_id), *self._load_args(slots, displaced, keep))
            for customer_id, (slots, displaced) in mirrors.items()])
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply

    @staticmethod
    def _load_args(slots: Sequence[Slot], displaced: Sequence[tuple[str, str]], keep: timedelta) -> list[str | int]:
        args: list[str | int] = [int(keep.total_seconds()) + 86400, len(slots)]
        for slot in slots:
            hold = _ms(slot.hold_until) if slot.hold_until else 0
            args += [slot.firing_id, f"{_CODES[slot.state]}|{_ms(slot.at)}|{slot.channel}|{slot.category}|"
                                     f"{slot.priority}|{slot.event}|{hold}"]
        for firing_id, winner in displaced:
            args += [firing_id, winner]
        return args

    def confirm(self, customer_id: str, firing_id: str) -> bool:
        return bool(self._confirm(keys=self.keys(customer_id), args=[firing_id]))

    def release(self, customer_id: str, firing_id: str) -> None:
        """Give back the slot held for `firing_id` (the firing will not be sent)."""
        self._client.hdel(self.keys(customer_id)[0], firing_id)

    def forget(self, *customer_ids: str) -> None:
        """Drop the people's mirrors (after a merge or an erasure): the next decision rebuilds from PostgreSQL."""
        keys = [key for customer_id in customer_ids for key in self.keys(customer_id)]
        if keys:
            self._client.delete(*keys)


def parse(raw: list) -> Reservation:
    """The script's answer as a domain Reservation."""
    fields = [part.decode() if isinstance(part, bytes) else str(part) for part in raw]
    fields += [""] * (9 - len(fields))
    status, state, channel, at, hold, counts, extra, blocked, freeing = fields[:9]
    if status == "rebuild":
        raise RebuildNeeded()
    return Reservation(
        status=status,
        state=_STATES.get(state, SlotState.NONE),
        channel=channel,
        slot_at=_instant(at) if at else None,
        hold_until=_instant(hold) if hold else None,
        counts=tuple(int(c) for c in counts.split(",")) if counts else (),
        blocked_at=int(blocked) if blocked else -1,
        freeing_entry=_instant(freeing) if freeing else None,
        victims=tuple(extra.split(",")) if extra and status == "ok" else (),
        winner=extra if status == "displaced" else "",
    )
