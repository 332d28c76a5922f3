"""Walk an incoming `Event`, check every rule and normalise it in place.

The rules themselves are pure (`domain/rules.py`); this module knows the
protobuf shapes and builds the field paths ("order.lines[0].quantity") the
client sees next to each reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from declic.common.v1 import event_pb2, identity_pb2
from declic.kit import request_validation
from declic.kit.identifiers import InvalidIdentifier, normalise_identifier
from services.ingest.domain import rules
from services.ingest.domain.identity import Identifier
from services.ingest.domain.rules import RuleViolation
from services.ingest.quick_checks import QUICK_CHECKS
from services.ingest.validation_cache import DEFAULT_MAX_BYTES, ValidationCache

IDENTIFIER_TYPE_NAMES = {
    value: name.removeprefix("IDENTIFIER_TYPE_").lower()
    for name, value in identity_pb2.IdentifierType.items()
    if value != identity_pb2.IDENTIFIER_TYPE_UNSPECIFIED
}
CATALOGUE_KINDS = frozenset({"product_upsert"})
PAYLOAD_KINDS = tuple(field.name for field in event_pb2.Event.DESCRIPTOR.oneofs_by_name["payload"].fields)
MAX_CONTEXT_ENTRIES = 50
SOURCES = "source"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TEXT = 1000


@dataclass(slots=True)
class ValidatedEvent:
    """An event after validation: normalised in place, or with the reasons it is refused."""

    index: int
    event: event_pb2.Event
    key: tuple[str, str]
    """(source, event_id): the de-duplication key."""
    kind: str = ""
    identifiers: list[Identifier] = field(default_factory=list)
    event_time: datetime | None = None
    product_ids: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    payload: bytes = b""
    """The normalised event, serialized (set once valid)."""
    position: int = 0
    """Its place among all the events written together (set by the batch writer)."""

    @property
    def ok(self) -> bool:
        return not self.errors


class EventValidator:
    """Checks events against the rules of their type; `default_region` reads national phone numbers."""

    def __init__(self, default_region: str, max_future: timedelta, cache_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._region = default_region
        self._max_future = max_future
        # Good sources, and by identifier type the good raw values with the identifier each stands for.
        self.cache = ValidationCache([SOURCES, *IDENTIFIER_TYPE_NAMES], cache_bytes)
        self._payload_checks = {kind: getattr(self, f"_{kind}") for kind in PAYLOAD_KINDS}

    def validate(self, index: int, event: event_pb2.Event, received_at: datetime) -> ValidatedEvent:
        """Validate and normalise `event` (modified in place). Field paths are relative to the event."""
        kind = event.WhichOneof("payload") or ""
        result = ValidatedEvent(index, event, (event.source, event.event_id), kind)
        # The kit's rules of every request first (known enums, Timestamps in range, bounded text and lists), so
        # the rules below may take them for granted: one bad event is REJECTED, never a failed batch.
        result.errors.extend(request_validation.violations(event))
        if result.errors:
            return result
        check = _Checker(result.errors)
        self._envelope(event, result, check, received_at)
        if len(event.context) > MAX_CONTEXT_ENTRIES:
            check.fail("context", f"must have at most {MAX_CONTEXT_ENTRIES} entries")
        self._identifiers(event, result, check)
        if not kind:
            check.fail("payload", "one of identify, page_view, product_view, cart_change, order, "
                       "product_upsert, message_engagement is required")
        else:
            payload = getattr(event, kind)
            # Most payloads are good: a quick look settles them; any doubt runs every rule for the reasons.
            quick = QUICK_CHECKS.get(kind)
            if quick is None or not quick(payload, result):
                self._payload_checks[kind](payload, result, check)
        if not result.errors:
            result.payload = event.SerializeToString()
        return result

    def _envelope(self, event: event_pb2.Event, result: ValidatedEvent, check: _Checker,
                  received_at: datetime) -> None:
        source = result.key[0]
        if source not in self.cache.spaces[SOURCES]:
            source_error = _reason(rules.check_source, source)
            if source_error:
                check.fail("source", source_error)
            else:
                self.cache.keep(SOURCES, source, True)
        event_id = result.key[1]
        if not (0 < len(event_id) <= rules.MAX_ID_LENGTH and event_id.isascii() and event_id.isprintable()
                and " " not in event_id):
            check.apply("event_id", rules.check_event_id, event_id)
        if event.HasField("event_time"):
            timestamp = event.event_time
            result.event_time = EPOCH + timedelta(0, timestamp.seconds, timestamp.nanos // 1000)
            if result.event_time <= received_at + self._max_future:
                return
        check.apply("event_time", rules.check_event_time, result.event_time, received_at, self._max_future)

    def _identifiers(self, event: event_pb2.Event, result: ValidatedEvent, check: _Checker) -> None:
        identifiers = event.identifiers
        if not identifiers and result.kind and result.kind not in CATALOGUE_KINDS:
            check.fail("identifiers", "at least one identifier is required")
        seen = self.cache.spaces
        found = result.identifiers
        for position, identifier in enumerate(identifiers):
            raw = identifier.value
            by_value = seen.get(identifier.type)
            good = by_value.get(raw) if by_value is not None else None
            if good is None:
                good, where, reason = self._identifier(identifier.type, raw)
                if good is None:
                    check.fail(f"identifiers[{position}].{where}", reason)
                    continue
                self.cache.keep(identifier.type, raw, good)
            if good[1] != raw:
                identifier.value = good[1]
            found.append(good)

    def _identifier(self, identifier_type: int, raw: str) -> tuple[Identifier | None, str, str]:
        """((type name, normalised value), "", "") for a good identifier, else (None, bad field, reason)."""
        kind = IDENTIFIER_TYPE_NAMES.get(identifier_type)
        if kind is None:
            return None, "type", "is required"
        try:
            return (kind, normalise_identifier(kind, raw, self._region)), "", ""
        except InvalidIdentifier as exc:
            return None, "value", str(exc)

    def _identify(self, identify: event_pb2.Identify, result: ValidatedEvent, check: _Checker) -> None:
        if identify.birth_date:
            check.apply("identify.birth_date", rules.check_birth_date, identify.birth_date)
        if identify.locale:
            locale = check.apply("identify.locale", rules.check_locale, identify.locale)
            if locale:
                identify.locale = locale
        if identify.timezone:
            check.apply("identify.timezone", rules.check_timezone, identify.timezone)
        for position, consent in enumerate(identify.consents):
            path = f"identify.consents[{position}]"
            if consent.channel == identity_pb2.CHANNEL_UNSPECIFIED:
                check.fail(f"{path}.channel", "is required")
            if consent.state == identity_pb2.CONSENT_STATE_UNSPECIFIED:
                check.fail(f"{path}.state", "is required")
        for key, value in identify.attributes.items():
            if len(value) > MAX_TEXT:
                check.fail(f"identify.attributes[{key!r}]", f"must be at most {MAX_TEXT} characters")

    def _page_view(self, page_view: event_pb2.PageView, result: ValidatedEvent, check: _Checker) -> None:
        check.apply("page_view.url", rules.check_url, page_view.url)

    def _product_view(self, view: event_pb2.ProductView, result: ValidatedEvent, check: _Checker) -> None:
        check.apply("product_view.product_id", rules.check_required_id, view.product_id)

    def _cart_change(self, cart: event_pb2.CartChange, result: ValidatedEvent, check: _Checker) -> None:
        check.apply("cart_change.cart_id", rules.check_required_id, cart.cart_id)
        if cart.action == event_pb2.CART_ACTION_UNSPECIFIED:
            check.fail("cart_change.action", "is required")
        elif cart.action != event_pb2.CART_ACTION_CLEAR:
            if check.apply("cart_change.product_id", rules.check_required_id, cart.product_id):
                result.product_ids.append(cart.product_id)
            check.apply("cart_change.quantity", rules.check_quantity, cart.quantity)
        if cart.HasField("unit_price"):
            check.money("cart_change.unit_price", cart.unit_price)

    def _order(self, order: event_pb2.Order, result: ValidatedEvent, check: _Checker) -> None:
        check.apply("order.order_id", rules.check_required_id, order.order_id)
        if order.kind == event_pb2.ORDER_KIND_UNSPECIFIED:
            order.kind = event_pb2.ORDER_KIND_PURCHASE  # documented default
        if order.kind == event_pb2.ORDER_KIND_RETURN and order.original_order_id:
            check.apply("order.original_order_id", rules.check_required_id, order.original_order_id)
        if not order.lines:
            check.fail("order.lines", "at least one line is required")
        currencies: set[str] = set()
        for position, line in enumerate(order.lines):
            path = f"order.lines[{position}]"
            if check.apply(f"{path}.product_id", rules.check_required_id, line.product_id):
                result.product_ids.append(line.product_id)
            check.apply(f"{path}.quantity", rules.check_quantity, line.quantity)
            if not line.HasField("unit_price"):
                check.fail(f"{path}.unit_price", "is required")
            else:
                currencies.add(check.money(f"{path}.unit_price", line.unit_price))
                check.apply(f"{path}.quantity", rules.check_line_total, line.quantity, line.unit_price.units)
            if line.HasField("discount"):
                currencies.add(check.money(f"{path}.discount", line.discount))
        for name in ("discount", "total"):
            if order.HasField(name):
                currencies.add(check.money(f"order.{name}", getattr(order, name)))
        currencies.discard("")
        if len(currencies) > 1:
            check.fail("order", f"all amounts must be in one currency (found {', '.join(sorted(currencies))})")

    def _product_upsert(self, product: event_pb2.ProductUpsert, result: ValidatedEvent, check: _Checker) -> None:
        check.apply("product_upsert.product_id", rules.check_required_id, product.product_id)
        if not product.deleted and not product.name.strip():
            check.fail("product_upsert.name", "is required (unless deleted)")
        if product.HasField("price"):
            check.money("product_upsert.price", product.price)

    def _message_engagement(self, engagement: event_pb2.MessageEngagement, result: ValidatedEvent,
                            check: _Checker) -> None:
        check.apply("message_engagement.message_id", rules.check_required_id, engagement.message_id)
        if engagement.channel == identity_pb2.CHANNEL_UNSPECIFIED:
            check.fail("message_engagement.channel", "is required")
        if engagement.kind == event_pb2.ENGAGEMENT_KIND_UNSPECIFIED:
            check.fail("message_engagement.kind", "is required")


def _reason(rule, *args) -> str:  # type: ignore[no-untyped-def]
    """The reason `rule(*args)` refuses its input, or ""."""
    try:
        rule(*args)
    except RuleViolation as exc:
        return str(exc)
    return ""


class _Checker:
    """Collects (field, reason) pairs while rules run."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors

    def fail(self, path: str, reason: str) -> None:
        self.errors.append((path, reason))

    def apply(self, path: str, rule, *args):  # type: ignore[no-untyped-def]
        """Run `rule(*args)`; on a violation record it under `path` and return None."""
        try:
            value = rule(*args)
        except RuleViolation as exc:
            self.errors.append((path, str(exc)))
            return None
        return True if value is None else value

    def money(self, path: str, money) -> str:  # type: ignore[no-untyped-def]
        """Check an amount (>= 0) and its currency (normalised in place); return the currency or ""."""
        self.apply(path, rules.check_amount, money.units, money.nanos)
        currency = self.apply(f"{path}.currency_code", rules.normalise_currency, money.currency_code)
        if currency:
            money.currency_code = currency
            return str(currency)
        return ""

