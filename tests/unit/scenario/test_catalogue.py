"""Built-in welcome trigger rules."""

from __future__ import annotations

from datetime import UTC, datetime

from services.scenario.domain.catalogue import IdentifyFacts, firings_for_identify
from services.scenario.domain.firings import firing_id_for

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
