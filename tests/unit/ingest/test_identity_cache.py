"""The batch writer's memory of the identity graph: exact while only its own transactions follow each other."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from services.ingest.domain.identity import CustomerState, IdentityGraph, IdentityPolicy
from services.ingest.writer.identity_cache import IdentityCache

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def graph_after(*events: list[tuple[str, str]], known: dict | None = None,
                states: list[CustomerState] = ()) -> IdentityGraph:  # type: ignore[assignment]
    counter = itertools.count(1)
    graph = IdentityGraph(IdentityPolicy({}, ()), new_id=lambda: f"n{next(counter)}")
    graph.load(known or {}, states)
    for identifiers in events:
        graph.resolve(identifiers, T0)
    return graph


def test_what_a_transaction_read_and_changed_is_known_to_the_next_one() -> None:
    cache = IdentityCache()
    cache.begin(5)
    old = CustomerState("old", datetime(2025, 1, 1, tzinfo=UTC), {"email": 1})
    graph = graph_after([("email", "b@x.fr")], [("email", "a@x.fr"), ("email", "b@x.fr")],
                        known={("email", "a@x.fr"): "old"}, states=[old])
    cache.commit(5, {("email", "a@x.fr"): "old", ("phone", "+33611111111"): None}, [old], {"old": []}, graph,
                 {"p1": True, "p2": False})
    cache.begin(6)
    assert cache.owner(("email", "b@x.fr")) == (True, "old")  # attached to n1, which was merged into old
    assert cache.owner(("phone", "+33611111111")) == (True, None)  # nobody holds it
    assert cache.owner(("email", "c@x.fr")) == (False, None)  # never looked up
    assert cache.states["old"].type_counts == {"email": 2} and "n1" not in cache.states
    assert cache.pairs == {"old": [], "n1": []} and cache.products == {"p1": True, "p2": False}


def test_any_other_writer_in_between_empties_it() -> None:
    cache = IdentityCache()
    cache.commit(5, {("email", "a@x.fr"): "c1"}, [], {}, graph_after(), {})
    cache.begin(7)  # version 6 was another writer's
    assert cache.owner(("email", "a@x.fr")) == (False, None) and cache.version is None


def test_it_empties_itself_beyond_its_limit() -> None:
    cache = IdentityCache(limit=2)
    cache.commit(1, {("email", f"{n}@x.fr"): "c1" for n in range(3)}, [], {}, graph_after(), {})
    assert cache.owners == {} and cache.version is None
