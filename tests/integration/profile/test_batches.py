"""Hand-off batches: records applied together (one transaction, set-based) give exactly the profiles of the
same records applied one at a time — duplicates, replays, merges, splits, erasures and catalogue changes
included — and a bad record does not keep the others of its batch from being applied."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from declic.common.v1 import event_pb2, identity_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import ManualClock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.identifiers import identifier_hash
from declic.kit.sql_sets import send_lists_in_binary
from declic.kit.stream import StreamConsumer, StreamPublisher, stream_key
from services.profile.domain.rules import ProfileRules
from services.profile.intake.consumer import ProfileIntake
from services.profile.storage.tables import consent_history, engagement_counts, metadata, orders, outbox
from tests.integration.profile.conftest import START
from tests.integration.profile.records import accepted, consent, ident, identify, merged, order

DAY = timedelta(days=1)
CUSTOMERS = ["c1", "c2", "c3"]
EMAILS = ["ann@example.com", "bob@example.com", "cat@example.com"]
PHONES = ["+33612345678", "+14155550100"]
PRODUCTS = ["p1", "p2"]
CATEGORIES = ["", "dog food", "cat food"]


class Database:
    """A profile database of its own, with an updater on it (the clock is the same for every database)."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings, "profile")
        send_lists_in_binary(self.engine)  # as the service sends them
        migrate(self.engine, "profile", settings)
        self.updater = ProfileIntake(UnitOfWork(session_factory(self.engine)), ManualClock(START), ProfileRules())

    def contents(self) -> dict[str, list[tuple]]:
        """Every row of every table (consent history without its sequence), in a stable order."""
        found = {}
        with self.engine.connect() as conn:
            for table in metadata.sorted_tables:
                if table is outbox:
                    continue
                columns = [column for column in table.columns if column is not consent_history.c.id]
                rows = conn.execute(select(*columns)).all()
                found[table.name] = sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                                            for row in rows), key=repr)
        return found

    def clear(self) -> None:
        with self.engine.begin() as conn:
            for table in metadata.sorted_tables:
                conn.execute(delete(table))


@pytest.fixture
def databases(settings: Settings) -> Iterator[tuple[Database, Database]]:
    """Two separate profile databases: one fed record by record, the other batch by batch."""
    other = settings.model_copy(update={"db_schema_prefix": f"{settings.db_schema_prefix}b_",
                                        "database_url": settings.database_url.replace("{service}", "{service}-b")})
    made = (Database(settings), Database(other))
    yield made
    for database in made:
        database.engine.dispose()


# --- random histories ---------------------------------------------------------------------------------------
days = st.integers(min_value=0, max_value=60).map(lambda n: START - n * DAY)


@st.composite
def identify_records(draw: st.DrawFn) -> handoff_pb2.HandoffRecord:
    found = [ident("email", draw(st.sampled_from(EMAILS)))]
    if draw(st.booleans()):
        found.append(ident("phone", draw(st.sampled_from(PHONES))))
    at = draw(days)
    consents = draw(st.lists(st.tuples(st.sampled_from(["email", "sms"]), st.booleans(), days), max_size=2))
    return identify(draw(st.sampled_from(CUSTOMERS)), at, found,
                    consents=[consent(channel, granted, when) for channel, granted, when in consents],
                    first_name=draw(st.sampled_from(["", "Ann", "Bob"])),
                    birth_date=draw(st.sampled_from(["", "1990-04-12", "0000-12-31"])),
                    attributes=draw(st.sampled_from([{}, {"postal_address": "1 rue X"}, {"tier": "gold"}])))


@st.composite
def order_records(draw: st.DrawFn) -> handoff_pb2.HandoffRecord:
    lines = draw(st.lists(st.tuples(st.sampled_from(PRODUCTS), st.sampled_from(CATEGORIES),
                                    st.integers(1, 3), st.sampled_from([5.0, 12.5])), min_size=1, max_size=3))
    kind = draw(st.sampled_from([event_pb2.ORDER_KIND_PURCHASE, event_pb2.ORDER_KIND_PURCHASE,
                                 event_pb2.ORDER_KIND_RETURN]))
    return order(draw(st.sampled_from(CUSTOMERS)), draw(days), draw(st.sampled_from(["o1", "o2", "o3", "o4"])), lines,
                 kind=kind, promo_code=draw(st.sampled_from(["", "SPRING"])))


@st.composite
def browsing_records(draw: st.DrawFn) -> handoff_pb2.HandoffRecord:
    customer, at = draw(st.sampled_from(CUSTOMERS)), draw(days)
    product = draw(st.sampled_from(PRODUCTS))
    if draw(st.booleans()):
        return accepted(customer, at, product_view=event_pb2.ProductView(
            product_id=product, category=draw(st.sampled_from(CATEGORIES))))
    return accepted(customer, at, cart_change=event_pb2.CartChange(product_id=product,
                                                                   action=event_pb2.CART_ACTION_ADD))


@st.composite
def engagement_records(draw: st.DrawFn) -> handoff_pb2.HandoffRecord:
    kind = draw(st.sampled_from([event_pb2.ENGAGEMENT_KIND_OPENED, event_pb2.ENGAGEMENT_KIND_CLICKED,
                                 event_pb2.ENGAGEMENT_KIND_UNSUBSCRIBED, event_pb2.ENGAGEMENT_KIND_BOUNCED,
                                 event_pb2.ENGAGEMENT_KIND_COMPLAINED]))
    named = [ident("email", draw(st.sampled_from(EMAILS)))] if draw(st.booleans()) else []
    return accepted(draw(st.sampled_from(CUSTOMERS)), draw(days), named, message_engagement=event_pb2.MessageEngagement(
        message_id="m1", channel=identity_pb2.CHANNEL_EMAIL, kind=kind))


@st.composite
def catalogue_records(draw: st.DrawFn) -> handoff_pb2.HandoffRecord:
    return accepted("", draw(days), product_upsert=event_pb2.ProductUpsert(
        product_id=draw(st.sampled_from(PRODUCTS)), name="thing", category=draw(st.sampled_from(CATEGORIES[1:])),
        attributes={"animal": draw(st.sampled_from(["dog", "cat"])), "size": "XL"}))


@st.composite
def identity_records(draw: st.DrawFn) -> handoff_pb2.HandoffRecord:
    at = draw(days)
    survivor, other = draw(st.permutations(CUSTOMERS))[:2]
    choice = draw(st.sampled_from(["merge", "merge", "split", "erase"]))
    if choice == "merge":
        return merged(survivor, [other], at)
    if choice == "split":
        return handoff_pb2.HandoffRecord(record_id=f"split-{draw(st.integers(0, 10**9))}", customer_split=(
            handoff_pb2.CustomerSplit(from_customer_id=survivor, new_customer_id=f"{survivor}-split",
                                      identifiers=[ident("email", draw(st.sampled_from(EMAILS)))])))
    return handoff_pb2.HandoffRecord(record_id=f"erase-{draw(st.integers(0, 10**9))}", customer_erased=(
        handoff_pb2.CustomerErased(customer_id=other, identifier_hashes=[identifier_hash("email", EMAILS[0])])))


any_record = st.one_of(identify_records(), order_records(), browsing_records(), engagement_records(),
                       catalogue_records(), identity_records())


@st.composite
def histories(draw: st.DrawFn) -> list[handoff_pb2.HandoffRecord]:
    """Records in delivery order, some delivered again later (a replay, or a duplicate in the same batch)."""
    records = draw(st.lists(any_record, min_size=1, max_size=30))
    replays = draw(st.lists(st.integers(0, len(records) - 1), max_size=4))
    for index in replays:
        records.insert(draw(st.integers(index, len(records))), records[index])
    return records


def _apply_both_ways(databases: tuple[Database, Database], records: list[handoff_pb2.HandoffRecord],
                     cuts: random.Random | None = None) -> Database:
    """Apply `records` one at a time to the first database and in batches (one, or cut at random) to the
    second; assert both hold the same rows, and return the second."""
    one_by_one, batched = databases
    payloads = [record.SerializeToString() for record in records]
    for payload in payloads:
        one_by_one.updater(payload)
    start = 0
    while start < len(payloads):
        end = start + cuts.randint(1, len(payloads)) if cuts else len(payloads)
        batched.updater.handle_batch(payloads[start:end])
        start = end
    assert batched.contents() == one_by_one.contents()
    return batched


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(history=histories(), cuts=st.randoms(use_true_random=False))
def test_batches_cut_anywhere_give_the_profiles_of_one_record_at_a_time(databases, history, cuts) -> None:
    for database in databases:
        database.clear()
    _apply_both_ways(databases, history, cuts)


# --- duplicates and bad records ------------------------------------------------------------------------------
def _opens(customer: str, count: int) -> list[handoff_pb2.HandoffRecord]:
    return [accepted(customer, START - k * DAY, [ident("email", f"{customer}@example.com")],
                     message_engagement=event_pb2.MessageEngagement(
                         message_id=f"m{k}", channel=identity_pb2.CHANNEL_EMAIL, kind=event_pb2.ENGAGEMENT_KIND_OPENED))
            for k in range(count)]


def _opened(database: Database, customer: str) -> int:
    with database.engine.connect() as conn:
        return conn.execute(select(engagement_counts.c.count).where(
            engagement_counts.c.customer_id == customer, engagement_counts.c.kind == "opened")).scalar_one()


def test_a_batch_applies_each_record_once_whatever_it_repeats(databases) -> None:
    database, _ = databases
    earlier = _opens("c-dup", 3)
    database.updater.handle_batch([record.SerializeToString() for record in earlier])
    assert _opened(database, "c-dup") == 3
    later = _opens("c-dup", 2)
    first_order = order("c-dup", START, "o-dup", [("p1", "dog food", 1, 10.0)])
    same_order_again = order("c-dup", START, "o-dup", [("p1", "dog food", 1, 10.0)])  # another delivery of it
    batch = [earlier[0], later[0], later[0], earlier[2], first_order, later[1], first_order, same_order_again,
             later[0]]
    database.updater.handle_batch([record.SerializeToString() for record in batch])
    assert _opened(database, "c-dup") == 5
    with database.engine.connect() as conn:
        assert conn.execute(select(orders.c.order_id).where(orders.c.customer_id == "c-dup")).scalars().all() == [
            "o-dup"]


def test_a_batch_with_a_merge_in_the_middle_lands_later_events_on_the_survivor(databases) -> None:
    database, _ = databases
    email = [ident("email", "m@example.com")]
    batch = [identify("c-a", START - 9 * DAY, email, consents=[consent("email", True, START - 9 * DAY)]),
             *_opens("c-b", 2), merged("c-a", ["c-b"], START - 5 * DAY), *_opens("c-b", 1),
             identify("c-b", START - DAY, [], first_name="Zoe")]
    database.updater.handle_batch([record.SerializeToString() for record in batch])
    assert _opened(database, "c-a") == 3
    with database.engine.connect() as conn:
        history = conn.execute(select(consent_history.c.customer_id)).scalars().all()
        names = dict(conn.execute(select(metadata.tables["customers"].c.customer_id,
                                         metadata.tables["customers"].c.first_name)).all())
    assert history == ["c-a"]
    assert names == {"c-a": "Zoe", "c-b": ""}


def test_a_bad_record_does_not_keep_the_rest_of_its_batch_from_being_applied(databases, settings,
                                                                              redis_client) -> None:
    database, _ = databases
    stream = stream_key(settings.stream_prefix, "handoff")
    good = _opens("c-bad", 4)
    payloads = [record.SerializeToString() for record in good]
    payloads.insert(2, b"\xff\xff not a hand-off record")
    StreamPublisher(redis_client, stream).publish(payloads)
    consumer = StreamConsumer(redis_client, stream, "profile", database.updater, max_deliveries=1)
    consumer.ensure_group()
    # The batch fails on its third record, which the consumer names and sets aside; the others are applied.
    assert sum(consumer.poll_once() for _ in range(3)) == 4
    assert _opened(database, "c-bad") == 4
    assert redis_client.xlen(f"{stream}:dead:profile") == 1
    random.shuffle(payloads)  # delivered again, in any order: nothing changes
    StreamPublisher(redis_client, stream).publish(payloads)
    consumer.poll_once()
    assert _opened(database, "c-bad") == 4


def test_a_bounce_naming_no_address_blocks_only_the_addresses_known_then(databases) -> None:
    bounce = accepted("c-bounce", START - 2 * DAY, message_engagement=event_pb2.MessageEngagement(
        message_id="m1", channel=identity_pb2.CHANNEL_EMAIL, kind=event_pb2.ENGAGEMENT_KIND_BOUNCED))
    batch = [identify("c-bounce", START - 3 * DAY, [ident("email", "old@example.com")]), bounce,
             identify("c-bounce", START - DAY, [ident("email", "new@example.com")])]
    database = _apply_both_ways(databases, batch)
    assert database.contents()["channel_blocks"] == [
        ("c-bounce", "email", "old@example.com", "bounced", START - 2 * DAY)]


def test_an_erased_persons_identifiers_do_not_create_a_customer_but_follow_one_that_exists(databases) -> None:
    erased_email = ident("email", "gone@example.com")
    batch = [identify("c-gone", START - 9 * DAY, [erased_email]),
             handoff_pb2.HandoffRecord(record_id="erase-1", customer_erased=handoff_pb2.CustomerErased(
                 customer_id="c-gone")),
             identify("c-back", START - 3 * DAY, [erased_email], first_name="Back"),  # dropped
             identify("c-new", START - 2 * DAY, [ident("email", "new@example.com")], first_name="New"),
             identify("c-new", START - DAY, [erased_email])]  # c-new exists by then: applied as one at a time
    database = _apply_both_ways(databases, batch)
    customers = database.contents()["customers"]
    assert [row[:2] for row in customers] == [("c-gone", "erased"), ("c-new", "active")]
