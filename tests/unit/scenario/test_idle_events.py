"""Records known to change nothing from a few protobuf fields: the intake's answer with the shortcut is the
answer of building every event's facts and matching them."""

from __future__ import annotations

from datetime import UTC, datetime

from declic.common.v1 import event_pb2
from declic.scenarios.facts import event_facts
from declic.scenarios.loader import DEFAULT_DIR, load_catalogue, parse
from services.scenario.domain.matching import Matcher
from services.scenario.idle_events import IdleEvents
from services.scenario.steering import AcceptedFacts, changes_anything

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
CATALOGUE = load_catalogue()


def _events() -> list[event_pb2.Event]:
    events = []
    for url in ("https://s/", "https://s/offers", "https://s/c/dogs", "https://s/stores/paris", "https://s/p/1"):
        for category in ("", "offers", "dogs"):
            for title in ("", "Home"):
                event = event_pb2.Event(event_id="p", source="web", context={"campaign": title})
                event.page_view.url, event.page_view.category, event.page_view.title = url, category, title
                events.append(event)
    for interaction in ("", "view", "compare", "reviews"):
        event = event_pb2.Event(event_id="v", source="web")
        event.product_view.product_id, event.product_view.interaction = "p1", interaction
        events.append(event)
    cart = event_pb2.Event(event_id="c", source="web")
    cart.cart_change.cart_id, cart.cart_change.action = "k1", event_pb2.CART_ACTION_ADD
    upsert = event_pb2.Event(event_id="u", source="web")
    upsert.product_upsert.product_id = "p1"
    return [*events, cart, upsert, event_pb2.Event(event_id="n", source="web")]


def _changes_anything(matcher: Matcher, message: event_pb2.Event) -> bool:
    event = event_facts(message)
    return changes_anything(matcher, AcceptedFacts(event, "c", {}, tuple(matcher.entries(event, NOW))))


def test_an_event_known_idle_is_one_that_matching_finds_idle() -> None:
    matcher = Matcher(CATALOGUE.scenarios.values())
    idle = IdleEvents(matcher)
    skipped = 0
    for _ in range(2):  # the second time, remembered
        for message in _events():
            key = idle.key(message)
            expected = _changes_anything(matcher, message)
            if idle.known_idle(key):
                skipped += 1
                assert not expected, message
            elif not expected:
                idle.remember_idle(key)
    # Pages without a category (three urls, two titles each) and a product upsert, but for the first of each key.
    assert skipped == (6 - 3) + (6 + 1)


def test_what_decides_is_the_fields_the_triggers_read_unless_the_type_steers_journeys() -> None:
    idle = IdleEvents(Matcher(CATALOGUE.scenarios.values()))
    [page, *_] = _events()
    assert idle.key(page) == ("page_view", "", "https://s/")  # category and url, not the title nor the context
    cart, upsert, empty = _events()[-3:]
    assert idle.key(cart) is None  # a cart change may steer a journey: its facts are always built
    assert idle.key(upsert) == ("product_upsert",)  # nothing starts on it
    assert idle.key(empty) is None


def test_a_trigger_reading_now_is_never_shortcut() -> None:
    text = (DEFAULT_DIR / "store-locator-visit.yaml").read_text().replace(
        'when: event.page_view.url.contains("/stores")',
        'when: event.page_view.url.contains("/stores") && now > timestamp("2026-03-02T10:00:00Z")')
    scenario, problems = parse(text, "store-locator-visit.yaml")
    assert scenario is not None and not problems
    idle = IdleEvents(Matcher([scenario]))
    assert idle.key(_events()[0]) is None
