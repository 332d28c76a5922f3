"""Folding many facts at once (a hand-off batch) gives what applying them one at a time gives, and the
result does not depend on their order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.profile.domain.appetence import add_signal, fold_signals
from services.profile.domain.commands import UpdateContact
from services.profile.domain.consents import DENIED, GRANTED, Consent, fold_consents, supersedes
from services.profile.domain.contact import apply_contact_update, fold_contact_updates

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HALF_LIFE = 30.0

signals = st.lists(st.tuples(st.sampled_from(["dog food", "cat food"]), st.sampled_from([1.0, 3.0, 5.0]),
                             st.integers(0, 200 * 86_400)), max_size=12)


@given(signals, st.randoms(use_true_random=False))
def test_folded_signals_are_those_added_one_at_a_time_in_any_order(found, shuffler) -> None:
    stored = {"dog food": (2.0, 100 * 86_400)}
    one_at_a_time = dict(stored)
    for key, weight, at in found:
        current = one_at_a_time.get(key)
        one_at_a_time[key] = (weight, at) if current is None else add_signal(*current, weight, at, HALF_LIFE)
    folded = fold_signals(stored, found, HALF_LIFE)
    assert folded == {key: one_at_a_time[key] for key, _, _ in found}  # exactly: same steps in the same order
    shuffled = list(found)
    shuffler.shuffle(shuffled)
    for key, (score, anchor) in fold_signals(stored, shuffled, HALF_LIFE).items():
        assert anchor == folded[key][1] and score == pytest.approx(folded[key][0], rel=1e-9)


consents = st.lists(st.tuples(st.sampled_from(["c1", "c2"]), st.builds(
    Consent, channel=st.sampled_from(["email", "sms"]), state=st.sampled_from([GRANTED, DENIED]),
    legal_basis=st.just("consent"), source=st.sampled_from(["form", "shop"]),
    given_at=st.integers(0, 5).map(lambda days: T0 + timedelta(days=days)))), max_size=10)


@given(consents)
def test_folded_consents_put_in_force_what_one_at_a_time_would(received) -> None:
    in_force = {("c1", "email"): Consent("email", GRANTED, "consent", "old", T0 + timedelta(days=2))}
    one_at_a_time = dict(in_force)
    for customer_id, consent in received:
        if supersedes(consent, one_at_a_time.get((customer_id, consent.channel))):
            one_at_a_time[(customer_id, consent.channel)] = consent
    changed = fold_consents(in_force, received)
    assert {**in_force, **changed} == one_at_a_time
    assert all(in_force.get(key) != consent for key, consent in changed.items())


def test_a_folded_withdrawal_beats_an_older_grant_received_after_it() -> None:
    withdrawal = Consent("email", DENIED, "", "unsubscribe link", T0 + timedelta(days=3))
    grant = Consent("email", GRANTED, "consent", "form", T0 + timedelta(days=1))
    assert fold_consents({}, [("c1", withdrawal), ("c1", grant)]) == {("c1", "email"): withdrawal}


def test_folded_contact_updates_keep_the_newest_value_of_each_field() -> None:
    day = timedelta(days=1)
    updates = [(UpdateContact(first_name="Ann", locale="fr-FR", attributes={"tier": "gold"}), T0 + 5 * day),
               (UpdateContact(first_name="Anne", last_name="Lee", attributes={"tier": "silver"}), T0 + 2 * day),
               (UpdateContact(locale="en-GB"), T0 + 7 * day)]
    folded = fold_contact_updates({}, {}, updates)
    assert folded.fields == {"first_name": "Ann", "last_name": "Lee", "locale": "en-GB"}
    assert folded.attributes == {"tier": "gold"}
    one_at_a_time: dict[str, str] = {}
    attributes: dict[str, str] = {}
    times: dict[str, str] = {}
    for update, at in updates:
        step = apply_contact_update(attributes, times, update, at)
        one_at_a_time.update(step.fields)
        attributes, times = step.attributes, step.field_times
    assert (folded.fields, folded.attributes, folded.field_times) == (one_at_a_time, attributes, times)
