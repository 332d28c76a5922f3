"""The identity graph: resolution, merges and their guard rails, and order independence (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.ingest.domain.identity import CustomerState, IdentityGraph, IdentityPolicy

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LIMITS = {"crm_id": 1, "loyalty_card": 2, "email": 5, "phone": 5, "device_id": 25, "anonymous_id": 200}


def make_graph(limits: dict[str, int] | None = None, blocklist: tuple[str, ...] = ()) -> IdentityGraph:
    counter = itertools.count(1)
    return IdentityGraph(IdentityPolicy(LIMITS if limits is None else limits, blocklist),
                         new_id=lambda: f"c{next(counter):03d}")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def grouping(graph: IdentityGraph) -> set[frozenset]:
    """The partition of identifiers into customers (ids aside: they are random in production)."""
    groups: dict[str, set] = {}
    for identifier in graph.owners:
        groups.setdefault(graph.owner(identifier), set()).add(identifier)
    return {frozenset(g) for g in groups.values()}


def test_new_identifiers_make_a_new_customer_and_are_then_recognised() -> None:
    graph, clock = make_graph(), Clock()
    first = graph.resolve([("email", "ann@x.fr"), ("phone", "+33611111111")], clock.tick())
    assert first.new_customer and first.customer_id == "c001"
    assert first.attached == [("email", "ann@x.fr"), ("phone", "+33611111111")]
    again = graph.resolve([("phone", "+33611111111")], clock.tick())
    assert again.customer_id == "c001" and not again.new_customer and not again.attached


def test_two_known_customers_merge_into_the_oldest() -> None:
    graph, clock = make_graph(), Clock()
    ann = graph.resolve([("email", "ann@x.fr")], clock.tick()).customer_id
    card = graph.resolve([("loyalty_card", "L1")], clock.tick()).customer_id
    proof = graph.resolve([("loyalty_card", "L1"), ("email", "ann@x.fr")], clock.tick())
    assert proof.customer_id == ann
    assert [(m.survivor_id, m.merged_ids) for m in proof.merges] == [(ann, (card,))]
    assert graph.owner(("loyalty_card", "L1")) == ann


def test_merge_chains_end_in_one_customer() -> None:
    graph, clock = make_graph(), Clock()
    a = graph.resolve([("email", "a@x.fr")], clock.tick()).customer_id
    graph.resolve([("email", "b@x.fr")], clock.tick())
    graph.resolve([("email", "c@x.fr")], clock.tick())
    graph.resolve([("email", "a@x.fr"), ("email", "b@x.fr")], clock.tick())
    last = graph.resolve([("email", "b@x.fr"), ("email", "c@x.fr")], clock.tick())
    assert last.customer_id == a
    assert {graph.owner(("email", f"{n}@x.fr")) for n in "abc"} == {a}


def test_anonymous_browsing_joins_the_customer_who_identifies() -> None:
    graph, clock = make_graph(), Clock()
    anonymous = graph.resolve([("anonymous_id", "cookie-1")], clock.tick()).customer_id
    known = graph.resolve([("email", "ann@x.fr")], clock.tick()).customer_id
    login = graph.resolve([("email", "ann@x.fr"), ("anonymous_id", "cookie-1")], clock.tick())
    assert login.merges and set(login.merges[0].merged_ids) | {login.merges[0].survivor_id} == {anonymous, known}
    assert graph.owner(("anonymous_id", "cookie-1")) == graph.owner(("email", "ann@x.fr"))


def test_anonymous_customer_becomes_known_when_a_new_email_arrives() -> None:
    graph, clock = make_graph(), Clock()
    anonymous = graph.resolve([("anonymous_id", "cookie-1")], clock.tick()).customer_id
    signup = graph.resolve([("anonymous_id", "cookie-1"), ("email", "new@x.fr")], clock.tick())
    assert signup.customer_id == anonymous and signup.attached == [("email", "new@x.fr")] and not signup.merges


def test_a_shared_device_never_merges_two_known_people() -> None:
    """Mautic #5495: two people on one computer stay two people."""
    graph, clock = make_graph(), Clock()
    ann = graph.resolve([("email", "ann@x.fr"), ("device_id", "family-tablet")], clock.tick()).customer_id
    bob = graph.resolve([("email", "bob@x.fr")], clock.tick()).customer_id
    shared = graph.resolve([("email", "bob@x.fr"), ("device_id", "family-tablet")], clock.tick())
    assert shared.customer_id == bob and not shared.merges
    assert [(r.reason, r.customer_ids) for r in shared.refusals] == [("weak_identifier_shared", (bob, ann))]
    assert graph.owner(("device_id", "family-tablet")) == ann
    newcomer = graph.resolve([("email", "eve@x.fr"), ("device_id", "family-tablet")], clock.tick())
    assert newcomer.new_customer and newcomer.customer_id not in {ann, bob}


def test_hundreds_of_people_behind_one_placeholder_email_stay_apart() -> None:
    """A call-center placeholder e-mail on every card: the card limit stops the snowball, and refusals show it."""
    graph, clock = make_graph(), Clock()
    for n in range(300):
        graph.resolve([("loyalty_card", f"CARD{n}")], clock.tick())
    refusals = []
    for n in range(300):
        refusals += graph.resolve([("loyalty_card", f"CARD{n}"), ("email", "client@shop.fr")], clock.tick()).refusals
    sizes = sorted(len(g) for g in grouping(graph))
    assert max(sizes) <= LIMITS["loyalty_card"] + 1  # the cards (at most 2) and the placeholder
    assert len(refusals) >= 298 and {r.reason for r in refusals} == {"limit:loyalty_card"}


def test_blocklisted_identifiers_are_ignored() -> None:
    graph, clock = make_graph(blocklist=("email:noreply@*",)), Clock()
    ann = graph.resolve([("loyalty_card", "A"), ("email", "noreply@shop.fr")], clock.tick())
    bob = graph.resolve([("loyalty_card", "B"), ("email", "noreply@shop.fr")], clock.tick())
    assert ann.customer_id != bob.customer_id
    assert bob.warnings == ["blocklisted_identifier:email"]
    assert graph.owner(("email", "noreply@shop.fr")) is None


def test_two_crm_ids_are_two_people() -> None:
    graph, clock = make_graph(), Clock()
    first = graph.resolve([("crm_id", "1"), ("email", "fam@x.fr")], clock.tick()).customer_id
    second = graph.resolve([("crm_id", "2")], clock.tick()).customer_id
    both = graph.resolve([("crm_id", "2"), ("email", "fam@x.fr")], clock.tick())
    assert both.customer_id == second and not both.merges  # the CRM id decides (strongest type first)
    assert [r.reason for r in both.refusals] == ["limit:crm_id"]
    assert graph.owner(("email", "fam@x.fr")) == first


def test_a_stronger_new_identifier_beyond_the_limit_starts_its_own_customer() -> None:
    graph, clock = make_graph(), Clock()
    first = graph.resolve([("crm_id", "1"), ("email", "family@x.fr")], clock.tick())
    second = graph.resolve([("crm_id", "9"), ("email", "family@x.fr")], clock.tick())
    assert second.new_customer and graph.owner(("crm_id", "9")) == second.customer_id
    assert [(r.reason, r.customer_ids) for r in second.refusals] == [
        ("limit:crm_id", (second.customer_id, first.customer_id))]
    assert graph.owner(("email", "family@x.fr")) == first.customer_id


def test_a_weaker_new_identifier_beyond_the_limit_is_not_attached() -> None:
    graph, clock = make_graph(), Clock()
    first = graph.resolve([("crm_id", "1")], clock.tick())
    again = graph.resolve([("crm_id", "1"), ("crm_id", "9")], clock.tick())
    assert again.customer_id == first.customer_id and again.warnings == ["identifier_not_attached:crm_id"]
    assert graph.owner(("crm_id", "9")) is None


def test_customers_split_by_an_operator_are_not_merged_again() -> None:
    graph = make_graph()
    graph.load(
        owners={("email", "a@x.fr"): "A", ("email", "b@x.fr"): "B"},
        customers=[CustomerState("A", T0, {"email": 1}), CustomerState("B", T0 + timedelta(1), {"email": 1})],
        split_pairs=[("A", "B")],
    )
    again = graph.resolve([("email", "a@x.fr"), ("email", "b@x.fr")], T0 + timedelta(2))
    assert again.customer_id == "A" and not again.merges
    assert [r.reason for r in again.refusals] == ["split_by_operator"]


def test_survivor_is_the_oldest_whatever_the_order_met() -> None:
    graph = make_graph()
    graph.load(
        owners={("email", "young@x.fr"): "Y", ("phone", "+33600000000"): "O"},
        customers=[CustomerState("Y", T0 + timedelta(days=3), {"email": 1}),
                   CustomerState("O", T0, {"phone": 1})],
    )
    merged = graph.resolve([("email", "young@x.fr"), ("phone", "+33600000000")], T0 + timedelta(days=4))
    assert merged.customer_id == "O" and merged.merges[0].merged_ids == ("Y",)


# --- Order independence -------------------------------------------------------------------------------------------

STRONG = ["email", "phone", "loyalty_card"]
WEAK = ["anonymous_id", "device_id"]


@st.composite
def people_events(draw: st.DrawFn) -> list[list[tuple[str, str]]]:
    """Events of several people; each event names identifiers of one person only (so no guard rail is needed)."""
    people = draw(st.integers(1, 5))
    events = []
    for person in range(people):
        own = [(kind, f"p{person}-{kind}-{n}") for kind in STRONG for n in range(2)]
        own += [(kind, f"p{person}-{kind}-{n}") for kind in WEAK for n in range(3)]
        for _ in range(draw(st.integers(1, 6))):
            events.append(draw(st.lists(st.sampled_from(own), min_size=1, max_size=4)))
    return events


def components(events: list[list[tuple[str, str]]]) -> set[frozenset]:
    """Connected components of 'named in the same event' (what one-person events prove)."""
    parent: dict = {}

    def find(x):  # noqa: ANN001, ANN202
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for event in events:
        for identifier in event[1:]:
            parent[find(identifier)] = find(event[0])
        find(event[0])
    groups: dict = {}
    for identifier in parent:
        groups.setdefault(find(identifier), set()).add(identifier)
    return {frozenset(g) for g in groups.values()}


def unambiguous(events: list[list[tuple[str, str]]]) -> bool:
    """True when no group of the events holds two groups of strong identifiers (weak ids alone bridge nothing)."""
    strong_groups = components([[i for i in e if i[0] in STRONG] for e in events if any(k in STRONG for k, _ in e)])
    return all(sum(1 for g in strong_groups if g & group) <= 1 for group in components(events))


def strong_only(groups: set[frozenset]) -> set[frozenset]:
    return {frozenset(i for i in g if i[0] in STRONG) for g in groups} - {frozenset()}


def run(events: list[list[tuple[str, str]]]) -> set[frozenset]:
    graph, clock = make_graph(limits={}), Clock()
    for event in events:
        graph.resolve(event, clock.tick())
    return grouping(graph)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.lists(st.tuples(st.sampled_from(STRONG + WEAK), st.sampled_from("abcd")),
                                min_size=1, max_size=4), max_size=30), data=st.data())
def test_strong_identifiers_group_the_same_in_any_order(events, data) -> None:  # noqa: ANN001
    """For any events at all, the customers' strong identifiers are the groups strong evidence proves."""
    expected = strong_only(components([[i for i in e if i[0] in STRONG] for e in events
                                       if any(k in STRONG for k, _ in e)]))
    assert strong_only(run(events)) == expected
    assert strong_only(run(data.draw(st.permutations(events)))) == expected


@settings(max_examples=200, deadline=None)
@given(events=people_events(), data=st.data())
def test_same_events_in_any_order_give_the_same_grouping(events, data) -> None:  # noqa: ANN001
    """Whenever the evidence is unambiguous, the whole grouping (anonymous and device ids too) is what it proves."""
    assume(unambiguous(events))
    assert run(events) == components(events)
    assert run(data.draw(st.permutations(events))) == components(events)


@settings(max_examples=100, deadline=None)
@given(events=st.lists(st.lists(st.tuples(st.sampled_from(STRONG + WEAK + ["crm_id"]),
                                          st.sampled_from("abcdef")), min_size=1, max_size=4), max_size=40))
def test_guard_rails_hold_for_any_events(events) -> None:  # noqa: ANN001
    """Whatever arrives, in whatever order: no customer exceeds a limit, and every identifier has one owner."""
    graph, clock = make_graph(), Clock()
    for event in events:
        graph.resolve(event, clock.tick())
    for group in grouping(graph):
        for kind, limit in LIMITS.items():
            assert sum(1 for k, _ in group if k == kind) <= limit
    assert sum(len(g) for g in grouping(graph)) == len(graph.owners)
