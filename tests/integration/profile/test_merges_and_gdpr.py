"""Merges, splits, GDPR export and erasure — and that no call ever returns another customer's data."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import select, text

from declic.common.v1 import identity_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.database import make_engine
from declic.kit.identifiers import identifier_hash
from declic.kit.protoconv import identifier_type_enum, to_timestamp
from declic.kit.stream import stream_key
from declic.profile.v1 import profile_pb2
from services.profile.storage.tables import PERSONAL_TABLES, customers, suppressions
from tests.integration.profile.conftest import START, wait_until
from tests.integration.profile.records import consent, ident, identify, merged, order

DAY = timedelta(days=1)


def _get(stub, customer_id: str) -> profile_pb2.Profile:
    return stub.GetProfile(profile_pb2.GetProfileRequest(customer_id=customer_id)).profile


def _lookup(stub, id_type: str, value: str) -> profile_pb2.Profile:
    return stub.LookupProfile(profile_pb2.LookupProfileRequest(
        identifier=identity_pb2.Identifier(type=identifier_type_enum(id_type), value=value))).profile


def _email_consent(got: profile_pb2.Profile) -> int:
    return {c.channel: c.state for c in got.consents}[identity_pb2.CHANNEL_EMAIL]


def test_merge_moves_history_to_the_survivor_and_the_unsubscribe_wins(profile) -> None:
    stub, publish = profile
    publish([
        # The web account gave e-mail consent recently...
        identify("c-web", START - 2 * DAY, [ident("email", "ann@example.com")], first_name="Ann",
                 consents=[consent("email", True, START - 2 * DAY)]),
        order("c-web", START - 20 * DAY, "w-1", [("p1", "shoes", 1, 80.0)]),
        # ...while the store identity had unsubscribed long ago.
        identify("c-store", START - 300 * DAY, [ident("loyalty_card", "LC-9")], last_name="Lee",
                 consents=[consent("email", False, START - 300 * DAY, source="store-12")]),
        order("c-store", START - 50 * DAY, "s-1", [("p2", "bags", 1, 120.0)]),
    ])
    assert _email_consent(_get(stub, "c-web")) == identity_pb2.CONSENT_STATE_GRANTED
    publish([merged("c-web", ["c-store"], START - DAY)])
    survivor = _get(stub, "c-web")
    assert _email_consent(survivor) == identity_pb2.CONSENT_STATE_DENIED
    email = {c.channel: c for c in survivor.contactability}[identity_pb2.CHANNEL_EMAIL]
    assert not email.contactable and "merge of c-store" in email.reason
    assert (survivor.first_name, survivor.last_name) == ("Ann", "Lee")
    assert survivor.order_count == 2 and survivor.monetary_value.units == 200
    assert survivor.average_interval_days == pytest.approx(30.0)
    assert {(i.type, i.value) for i in survivor.identifiers} == {
        (identity_pb2.IDENTIFIER_TYPE_EMAIL, "ann@example.com"), (identity_pb2.IDENTIFIER_TYPE_LOYALTY_CARD, "LC-9")}
    # The merged id and its identifiers lead to the survivor.
    assert _get(stub, "c-store").customer_id == "c-web"
    assert _lookup(stub, "loyalty_card", "LC-9").customer_id == "c-web"
    # Late events addressed to the merged id land on the survivor.
    publish([order("c-store", START - 10 * DAY, "s-2", [("p2", "bags", 1, 10.0)])])
    assert _get(stub, "c-web").order_count == 3
    # A newer explicit grant, and only that, makes the person e-mailable again.
    publish([identify("c-web", START, [ident("email", "ann@example.com")],
                      consents=[consent("email", True, START - DAY)])])
    assert _email_consent(_get(stub, "c-web")) == identity_pb2.CONSENT_STATE_GRANTED


def test_split_moves_identifiers_without_consents(profile) -> None:
    stub, publish = profile
    publish([identify("c-pair", START - DAY, [ident("email", "a@example.com"), ident("email", "b@example.com")],
                      consents=[consent("email", True, START - DAY)])])
    split = handoff_pb2.HandoffRecord(
        record_id="split-1", recorded_at=to_timestamp(START),
        customer_split=handoff_pb2.CustomerSplit(from_customer_id="c-pair", new_customer_id="c-b",
                                                 identifiers=[ident("email", "b@example.com")]))
    publish([split])
    assert _lookup(stub, "email", "b@example.com").customer_id == "c-b"
    assert [i.value for i in _get(stub, "c-pair").identifiers] == ["a@example.com"]
    moved = _get(stub, "c-b")
    assert not {c.channel: c for c in moved.contactability}[identity_pb2.CHANNEL_EMAIL].contactable


def test_the_api_never_returns_another_customers_data(profile) -> None:
    stub, publish = profile
    people = {f"c-{n}": (f"p{n}@example.com", f"+3361234560{n}", f"Name{n}") for n in range(4)}
    publish([identify(cid, START - DAY, [ident("email", email), ident("phone", phone)], first_name=name)
             for cid, (email, phone, name) in people.items()])
    publish([order(cid, START - DAY, f"o-{cid}", [("p", "cat", 1, 10.0 * (i + 1))])
             for i, cid in enumerate(people)])
    for i, (cid, (email, phone, name)) in enumerate(people.items()):
        for got in (_get(stub, cid), _lookup(stub, "email", email), _lookup(stub, "phone", phone)):
            assert got.customer_id == cid and got.first_name == name
            assert {i.value for i in got.identifiers} == {email, phone}
            assert [o.order_id for o in got.last_orders] == [f"o-{cid}"]
            assert got.monetary_value.units == 10 * (i + 1)
        exported = json.loads(stub.ExportProfile(profile_pb2.ExportProfileRequest(customer_id=cid)).json)
        others = [value for other, values in people.items() if other != cid for value in values]
        assert not any(value in json.dumps(exported) for value in others)


def test_export_holds_everything_about_the_person(profile) -> None:
    stub, publish = profile
    publish([identify("c-exp", START - DAY, [ident("email", "exp@example.com")], first_name="Exa",
                      attributes={"pet": "cat"}, consents=[consent("email", True, START - DAY)]),
             order("c-exp", START - DAY, "o-exp", [("p-1", "cat food", 2, 5.0)])])
    exported = json.loads(stub.ExportProfile(profile_pb2.ExportProfileRequest(customer_id="c-exp")).json)
    assert exported["customer"]["first_name"] == "Exa"
    assert exported["customer"]["attributes"] == {"pet": "cat"}
    assert exported["identifiers"] == [{"type": "email", "value": "exp@example.com"}]
    assert exported["consent_history"][0]["state"] == "granted"
    assert exported["orders"][0]["lines"][0]["product_id"] == "p-1"
    assert exported["appetences"][0]["value"] == "cat food"


CANARIES = ("canary-zq81@example.com", "+33699887766", "LC-CANARY-77", "Zorglub", "Canarius")


def test_erasure_leaves_no_personal_data_and_blocks_resurrection(profile, settings, redis_client) -> None:
    stub, publish = profile
    email, phone, card, first, last = CANARIES
    publish([
        identify("c-era", START - 9 * DAY, [ident("email", email), ident("phone", phone)], first_name=first,
                 last_name=last, birth_date="1980-05-06", attributes={"postal_address": "1 rue Canari"},
                 consents=[consent("email", True, START - 9 * DAY)]),
        identify("c-era-card", START - 8 * DAY, [ident("loyalty_card", card)], first_name=first),
        merged("c-era", ["c-era-card"], START - 7 * DAY),
        order("c-era", START - 5 * DAY, "o-era", [("p-era", "canary seed", 1, 9.0)]),
    ])
    erased = stub.EraseProfile(profile_pb2.EraseProfileRequest(customer_id="c-era-card"))
    assert erased.customer_id == "c-era" and erased.identifiers_suppressed == 3
    for call in (lambda: _get(stub, "c-era"), lambda: _get(stub, "c-era-card"),
                 lambda: _lookup(stub, "email", email)):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    # The erasure goes to every service through the hand-off stream (profile's own outbox), and to ingest
    # through the privacy stream, which holds erasures only.
    def announced(name: str) -> bool:
        stream = stream_key(settings.stream_prefix, name)
        records = [handoff_pb2.HandoffRecord.FromString(fields[b"p"]) for _, fields in redis_client.xrange(stream)]
        return any(r.WhichOneof("body") == "customer_erased" and r.customer_erased.customer_id == "c-era"
                   and identifier_hash("email", email) in r.customer_erased.identifier_hashes for r in records)

    wait_until(lambda: announced("handoff") and announced("privacy"))
    privacy = redis_client.xrange(stream_key(settings.stream_prefix, "privacy"))
    assert len(privacy) == 1
    # Re-ingesting the same identifiers under a new id does not resurrect the person.
    publish([identify("c-again", START, [ident("email", email)], first_name=first)])
    with pytest.raises(grpc.RpcError):
        _get(stub, "c-again")
    # Late events for the erased ids bring nothing back either.
    publish([order("c-era", START, "o-late", [("p-era", "canary seed", 1, 9.0)]),
             identify("c-era-card", START, [ident("loyalty_card", card)], first_name=first)])
    time.sleep(0.1)
    engine = make_engine(settings, "profile")
    with engine.connect() as conn:
        for table in PERSONAL_TABLES:
            dump = " ".join(str(row) for row in conn.execute(select(table)))
            for canary in (*CANARIES, "1 rue Canari", "1980-05-06", "canary seed"):
                assert canary not in dump, (table.name, canary)
        statuses = dict(conn.execute(select(customers.c.customer_id, customers.c.status)).all())
        assert statuses["c-era"] == statuses["c-era-card"] == "erased"
        assert "c-again" not in statuses
        kept = {row[0] for row in conn.execute(select(suppressions.c.identifier_hash))}
        assert identifier_hash("phone", phone) in kept and identifier_hash("loyalty_card", card) in kept

    def outbox_empty() -> bool:
        with engine.connect() as conn:
            return conn.execute(text("select count(*) from outbox")).scalar() == 0

    wait_until(outbox_empty)  # the relay deletes what it published (committed just after publishing)
    engine.dispose()
