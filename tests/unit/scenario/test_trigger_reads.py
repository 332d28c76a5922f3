"""CEL sees only the part of an event its triggers read, and remembers outcomes: the same entries as on the whole
event, evaluated afresh, for every trigger of the catalogue."""

from __future__ import annotations

from datetime import UTC, datetime

from declic.common.v1 import event_pb2
from declic.scenarios.conditions import bind
from declic.scenarios.entry import activation, business_key, trigger_matches
from declic.scenarios.facts import event_facts
from declic.scenarios.loader import load_catalogue
from declic.scenarios.references import event_fields, pruned, read_by
from services.scenario.domain.matching import Matcher

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
CATALOGUE = load_catalogue()


def test_the_fields_read_are_found_in_the_text() -> None:
    fields = event_fields(['event.page_view.url.contains("/stores")', 'has(event.context.status)',
                           'event.order.lines.exists(l, l.category == "kibble")'])
    assert fields == {"page_view": {"url"}, "context": {"status"}, "order": {"lines"}}
    assert event_fields(['event.order.kind == "purchase"', "event.order"]) == {"order": None}
    assert event_fields(['event["order"].kind == "purchase"']) is None  # not understood: the whole event
    assert read_by("journey.occurrences > 2 && event.order.total > 50.0") == ({"order": {"total"}}, True)
    assert read_by('event.order.kind == "purchase"') == ({"order": {"kind"}}, False)
    assert pruned({"type": "page_view", "id": "x", "page_view": {"url": "u", "title": "t"}},
                  {"page_view": frozenset({"url", "category"})}) == {"type": "page_view", "page_view": {"url": "u"}}


def _events() -> list[event_pb2.Event]:
    events = []
    for url, category in [("https://s/", ""), ("https://s/offers", ""), ("https://s/c", "dogs"),
                          ("https://s/stores/paris", ""), ("https://s/", "offers")]:
        event = event_pb2.Event(event_id="p", source="web")
        event.page_view.url, event.page_view.category = url, category
        events.append(event)
    for interaction in ("", "view", "compare", "reviews"):
        event = event_pb2.Event(event_id="v", source="web")
        event.product_view.product_id, event.product_view.interaction = "p1", interaction
        events.append(event)
    for action in (event_pb2.CART_ACTION_ADD, event_pb2.CART_ACTION_CLEAR):
        event = event_pb2.Event(event_id="c", source="web")
        event.cart_change.cart_id, event.cart_change.action, event.cart_change.unit_price.units = "k1", action, 250
        events.append(event)
    for kind, channel in [(event_pb2.ORDER_KIND_PURCHASE, event_pb2.ORDER_CHANNEL_STORE),
                          (event_pb2.ORDER_KIND_RETURN, event_pb2.ORDER_CHANNEL_ONLINE)]:
        event = event_pb2.Event(event_id="o", source="web", context={"status": "shipped"})
        event.order.order_id, event.order.kind, event.order.channel = "o1", kind, channel
        events.append(event)
    for reason in ("newsletter_signup", "app_installed", "password_changed"):
        event = event_pb2.Event(event_id="i", source="web")
        event.identify.reason = reason
        event.identify.attributes["satisfaction_score"] = "1"
        events.append(event)
    return events


def test_entries_are_those_of_the_whole_event_each_time() -> None:
    matcher = Matcher(CATALOGUE.scenarios.values())
    for _ in range(2):  # the second time, remembered
        for message in _events():
            event = event_facts(message, new_customer=True)
            bound = bind(activation(event, {}, {}, NOW))
            expected = sorted((s.id, business_key(s, event, NOW, bound)) for s in CATALOGUE.scenarios.values()
                              if s.active and trigger_matches(s, event, NOW, bound)[0])
            assert sorted((e.scenario.id, e.business_key) for e in matcher.entries(event, NOW)) == expected


def test_keys_read_without_cel_are_what_cel_reads() -> None:
    keys = [s.trigger.key for s in CATALOGUE.scenarios.values() if s.trigger.key is not None]
    assert sum(key.path is not None for key in keys) >= 5  # most keys name a field: read without CEL
    read = 0
    for message in _events():
        event = event_facts(message, new_customer=True)
        for key in keys:
            text = key.text_at_path({"event": event})
            if text is not None:
                read += 1
                assert text == key.evaluate(activation(event, {}, {}, NOW))
            elif key.path is not None:
                try:
                    value = key.evaluate(activation(event, {}, {}, NOW))
                except ValueError:
                    continue  # a field the event does not have: CEL says so
                assert not isinstance(value, str)  # only a value CEL turns into something else is left to it
    assert read > 10
