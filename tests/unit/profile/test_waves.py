"""domain.waves: a batch's records regrouped so that each waits only for the earlier records it depends on."""

from __future__ import annotations

from datetime import UTC, datetime

from services.profile.domain.commands import (
    ApplyEvent,
    EraseCustomer,
    EventContext,
    MergeCustomers,
    RecordEngagement,
    RecordOrder,
    UpsertProduct,
)
from services.profile.domain.waves import plan_waves

AT = datetime(2026, 3, 2, tzinfo=UTC)


def event(event_id: str, customer_id: str, *identifiers: tuple[str, str], action: object = None) -> ApplyEvent:
    return ApplyEvent(EventContext(event_id, "shop", AT, customer_id, identifiers), action)  # type: ignore[arg-type]


def shape(commands: list, surviving: dict[str, str] | None = None) -> list[tuple[list[str], ...]]:
    """Per wave: (event ids, merge survivors, other records' kinds)."""
    return [([e.context.event_id for e in wave.events], [m.survivor_id for m in wave.merges],
             [type(o).__name__ for o in wave.others]) for wave in plan_waves(commands, surviving or {})]


def test_a_merge_holds_back_only_the_later_records_of_its_people() -> None:
    commands = [event("a1", "a"), event("b1", "b"), MergeCustomers("a", ("b",)), event("b2", "b"),
                event("c1", "c"), event("a2", "a")]
    assert shape(commands) == [(["a1", "b1", "c1"], ["a"], []), (["b2", "a2"], [], [])]


def test_merges_stored_before_the_batch_make_two_ids_one_person() -> None:
    commands = [MergeCustomers("s", ("m",)), event("old-id", "x")]
    assert shape(commands, surviving={"x": "m"}) == [([], ["s"], []), (["old-id"], [], [])]


def test_merges_about_distinct_people_share_a_wave_and_a_chain_does_not() -> None:
    commands = [MergeCustomers("a", ("b",)), MergeCustomers("c", ("d",)), MergeCustomers("e", ("a",))]
    assert shape(commands) == [([], ["a", "c"], []), ([], ["e"], [])]


def test_an_identifier_or_an_order_keeps_its_first_bringer_first() -> None:
    email = ("email", "x@example.com")
    order = RecordOrder("o1", "purchase", 100, 0, "EUR", "web")
    commands = [event("a1", "a"), MergeCustomers("a", ("b",)), event("a2", "a", email), event("c1", "c", email),
                event("a3", "a", action=order), event("d1", "d", action=order)]
    assert shape(commands) == [(["a1"], ["a"], []), (["a2", "c1", "a3", "d1"], [], [])]


def test_an_erasure_or_a_catalogue_change_comes_between_everything_before_and_after() -> None:
    product = event("p1", "", action=UpsertProduct("p", "thing", "toys", ""))
    commands = [event("a1", "a"), EraseCustomer("z"), event("b1", "b"), product, event("c1", "c")]
    assert shape(commands) == [(["a1"], [], ["EraseCustomer"]), (["b1"], [], ["ApplyEvent"]), (["c1"], [], [])]


def test_a_bounce_naming_no_address_comes_before_the_persons_later_records() -> None:
    bounce = RecordEngagement("email", "bounced", "m1")
    commands = [event("a1", "a", ("email", "old@example.com")), event("a2", "a", action=bounce),
                event("b1", "b"), event("a3", "a", ("email", "new@example.com"))]
    assert shape(commands) == [(["a1", "a2", "b1"], [], []), (["a3"], [], [])]
