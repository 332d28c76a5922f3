"""The pressure counters on the real Redis: they count, reserve and displace against the limits given, no more."""

from __future__ import annotations

from datetime import timedelta

import pytest

from declic.kit.clock import ManualClock
from services.arbiter.domain.decisions import SlotState
from services.arbiter.domain.pressure import Limit
from services.arbiter.storage.counters import PressureCounters, RebuildNeeded, SlotAsk
from services.arbiter.storage.counters_lua import HELD_GRACE_MS

pytestmark = pytest.mark.integration
NOW = ManualClock().now()
KEEP = timedelta(days=7)
GRACE = timedelta(milliseconds=HELD_GRACE_MS)


def cap(limit: int, kind: str = "all", value: str = "") -> Limit:
    return Limit("cap:test", kind, value, NOW - KEEP, limit, f"{limit} per 7 days", window=None)


def ask(firing_id: str, priority: int = 0, held: bool = False, channel: str = "email", event: str = "") -> SlotAsk:
    return SlotAsk(firing_id, channel, "promotional", priority, event, NOW + timedelta(minutes=2) if held else None)


@pytest.fixture
def counters(settings, redis_client) -> PressureCounters:
    counters = PressureCounters(redis_client, settings.stream_prefix)
    counters.load("c", [], [], KEEP)
    return counters


def test_a_person_not_loaded_asks_for_a_rebuild_first(settings, redis_client) -> None:
    counters = PressureCounters(redis_client, settings.stream_prefix)
    with pytest.raises(RebuildNeeded):
        counters.reserve("c", ask("f1"), NOW, [cap(3)], KEEP)
    assert counters.load("c", [], [], KEEP) and not counters.load("c", [], [], KEEP)  # loaded once
    assert counters.reserve("c", ask("f1"), NOW, [cap(3)], KEEP).status == "ok"


def test_reserves_up_to_the_limit_and_says_which_limit_is_full(counters) -> None:
    answers = [counters.reserve("c", ask(f"f{i}"), NOW + timedelta(seconds=i), [cap(5), cap(3)], KEEP)
               for i in range(4)]
    assert [a.status for a in answers] == ["ok", "ok", "ok", "blocked"]
    assert answers[2].counts == (2, 2) and answers[3].blocked_at == 1
    assert answers[3].freeing_entry == NOW  # the oldest leaves first
    assert counters.reserve("c", ask("f1"), NOW, [cap(3)], KEEP).status == "reserved"  # asked twice: once
    counters.release("c", "f1")
    assert counters.reserve("c", ask("f9"), NOW, [cap(3)], KEEP).status == "ok"
    assert counters.counts("c", NOW, [cap(3), cap(9, "channel", "sms")], KEEP) == (3, 0)


def test_a_higher_priority_displaces_the_lowest_held_slot_only(counters) -> None:
    assert counters.reserve("c", ask("low", 1, held=True), NOW, [cap(2)], KEEP).state is SlotState.HELD
    assert counters.reserve("c", ask("mid", 5, held=True), NOW, [cap(2)], KEEP).status == "ok"
    won = counters.reserve("c", ask("high", 9, held=True), NOW, [cap(2)], KEEP)
    assert (won.status, won.victims) == ("ok", ("low",))
    assert counters.reserve("c", ask("lower", 0, held=True), NOW, [cap(2)], KEEP).status == "blocked"
    told = counters.reserve("c", ask("low", 1, held=True), NOW, [cap(2)], KEEP)
    assert (told.status, told.winner) == ("displaced", "high")
    later = NOW + timedelta(minutes=3)
    assert counters.reserve("c", ask("mid", 5), later, [cap(2)], KEEP).status == "promoted"
    assert counters.reserve("c", ask("high", 9), later, [cap(2)], KEEP).status == "promoted"
    # Reserved now: no priority displaces it any more.
    assert counters.reserve("c", ask("top", 99), later, [cap(2)], KEEP).status == "blocked"


def test_a_held_slot_nobody_comes_back_for_is_given_back(counters) -> None:
    """The journey that fired it was interrupted during the hold (an order after an abandoned cart): scenario never
    asks again, and the slot must not keep the person's cap full for the rest of the window."""
    assert counters.reserve("c", ask("forgotten", 1, held=True), NOW, [cap(2)], KEEP).state is SlotState.HELD
    assert counters.reserve("c", ask("kept", 1, held=True), NOW, [cap(2)], KEEP).state is SlotState.HELD
    hold_end = NOW + timedelta(minutes=2)
    assert counters.reserve("c", ask("kept", 1), hold_end, [cap(2)], KEEP).status == "promoted"  # asked again
    within = hold_end + GRACE - timedelta(seconds=1)
    assert counters.counts("c", within, [cap(2)], KEEP) == (2,)  # still waiting for its firing
    assert counters.reserve("c", ask("third"), within, [cap(2)], KEEP).status == "blocked"
    past = hold_end + GRACE
    assert counters.counts("c", past, [cap(2)], KEEP) == (1,)  # given back; the reserved one stays
    assert counters.reserve("c", ask("third"), past, [cap(2)], KEEP).status == "ok"
    # Asked again after all, the forgotten firing is judged afresh: the cap is full again.
    assert counters.reserve("c", ask("forgotten", 1), past, [cap(2)], KEEP).status == "blocked"


def test_one_slot_per_event_and_a_confirmed_slot_stays(counters) -> None:
    event = Limit("one_per_event", "event", "e1", NOW - KEEP, 1, "one per event")
    assert counters.reserve("c", ask("a", event="e1"), NOW, [event], KEEP).status == "ok"
    assert counters.reserve("c", ask("b", event="e1"), NOW, [event], KEEP).status == "blocked"
    assert counters.confirm("c", "a") and not counters.confirm("c", "nobody")
    assert counters.reserve("c", ask("a"), NOW, [event], KEEP).state is SlotState.CONFIRMED
    counters.forget("c")
    with pytest.raises(RebuildNeeded):
        counters.counts("c", NOW, [event], KEEP)
