"""The welcome trigger as the catalogue says it, firing ids, and firings after a merge."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from declic.scenarios.loader import load_catalogue
from services.scenario.domain.firings import Firing, FiringState, Settlement, firing_id_for, split_after_merge
from services.scenario.domain.matching import Matcher

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)
MATCHER = Matcher(load_catalogue().scenarios.values())


def identify(new_customer: bool = True, reason: str = "") -> dict:
    return {"type": "identify", "id": "web:e1", "identify": {"new_customer": new_customer, "reason": reason,
                                                             "first_name": "Ann", "attributes": {}}}


def test_new_contact_or_signup_starts_the_welcome() -> None:
    assert "welcome" in [e.scenario.id for e in MATCHER.entries(identify(), NOW)]
    assert "welcome" in [e.scenario.id for e in MATCHER.entries(identify(False, "newsletter_signup"), NOW)]


def test_profile_update_does_not_start_the_welcome() -> None:
    assert "welcome" not in [e.scenario.id for e in MATCHER.entries(identify(False, "address_change"), NOW)]


def test_a_paused_scenario_starts_nothing() -> None:
    assert "welcome" not in [e.scenario.id for e in MATCHER.entries(identify(), NOW, paused=frozenset({"welcome"}))]


def test_firing_ids_differ_by_customer_and_occurrence() -> None:
    ids = {firing_id_for("s", "a", c, o) for c in ("c1", "c2") for o in ("", "order-1")}
    assert len(ids) == 4


def welcome_firing(customer_id: str) -> Firing:
    return Firing(firing_id_for("welcome", "welcome-offer", customer_id), "welcome", "welcome-offer", customer_id,
                  50, ("email", "sms"), "welcome", NOW)


def test_after_a_merge_the_survivor_takes_over_open_firings_it_does_not_have() -> None:
    welcome = welcome_firing("B")
    other_step = replace(welcome, firing_id="b2", step_id="reminder")
    deferred = replace(welcome, firing_id="b3", step_id="later", state=FiringState.DEFERRED)
    sent = replace(welcome, firing_id="b4", step_id="done", state=FiringState.SENT)
    taken_over, duplicates = split_after_merge("A", [welcome_firing("A")], [welcome, other_step, deferred, sent])
    assert [f.firing_id for f in taken_over] == ["b2", "b3"]
    assert duplicates == {
        welcome.firing_id: Settlement(FiringState.SUPPRESSED, "duplicate: merged into A, which has this step already")
    }


def test_a_duplicate_the_arbiter_was_asked_about_is_withdrawn_first() -> None:
    deferred = replace(welcome_firing("B"), state=FiringState.DEFERRED, attempts=1)
    _, duplicates = split_after_merge("A", [welcome_firing("A")], [deferred])
    # Due at once: the delivery loop gives the arbiter its slot back, then suppresses it.
    assert duplicates == {deferred.firing_id: Settlement(
        FiringState.WITHDRAWING, "duplicate: merged into A, which has this step already", deferred.fired_at)}
