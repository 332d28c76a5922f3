"""Built-in welcome trigger rules, and firings after a merge."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.scenario.domain.catalogue import IdentifyFacts, firings_for_identify
from services.scenario.domain.firings import FiringState, Settlement, firing_id_for, split_after_merge

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)


def facts(new_customer: bool = True, reason: str = "", customer_id: str = "c1") -> IdentifyFacts:
    return IdentifyFacts("web:e1", customer_id, new_customer, reason, "Ann")


def test_new_contact_fires_welcome_once_per_customer() -> None:
    [firing] = firings_for_identify(facts(), NOW)
    assert firing.scenario_id == "welcome" and firing.channels == ("email", "sms")
    assert firing.variables == {"first_name": "Ann"}
    [again] = firings_for_identify(facts(new_customer=False, reason="newsletter_signup"), NOW)
    assert again.firing_id == firing.firing_id  # same customer: the same (deduplicated) firing


def test_profile_update_does_not_fire() -> None:
    assert firings_for_identify(facts(new_customer=False, reason="address_change"), NOW) == []


def test_firing_ids_differ_by_customer_and_occurrence() -> None:
    ids = {firing_id_for("s", "a", c, o) for c in ("c1", "c2") for o in ("", "order-1")}
    assert len(ids) == 4


def test_after_a_merge_the_survivor_takes_over_open_firings_it_does_not_have() -> None:
    welcome = firings_for_identify(facts(customer_id="B"), NOW)[0]
    other_step = replace(welcome, firing_id="b2", step_id="reminder")
    deferred = replace(welcome, firing_id="b3", step_id="later", state=FiringState.DEFERRED)
    sent = replace(welcome, firing_id="b4", step_id="done", state=FiringState.SENT)
    survivor_has = firings_for_identify(facts(customer_id="A"), NOW)
    taken_over, duplicates = split_after_merge("A", survivor_has, [welcome, other_step, deferred, sent])
    assert [f.firing_id for f in taken_over] == ["b2", "b3"]
    assert duplicates == {
        welcome.firing_id: Settlement(FiringState.SUPPRESSED, "duplicate: merged into A, which has this step already")
    }
