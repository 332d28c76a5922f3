"""Consent precedence: newest wins; ties and merges keep the most restrictive choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.profile.domain.consents import DENIED, GRANTED, Consent, merge_consents, supersedes
from services.profile.domain.contactability import contactability, contactability_by_channel

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def consent(state: str, days: int = 0, source: str = "form") -> Consent:
    return Consent("email", state, "consent", source, T0 + timedelta(days=days))


def test_newer_consent_supersedes_older_whatever_its_state() -> None:
    assert supersedes(consent(GRANTED, 2), consent(DENIED, 1))
    assert supersedes(consent(DENIED, 2), consent(GRANTED, 1))
    assert not supersedes(consent(GRANTED, 1), consent(DENIED, 2))
    assert supersedes(consent(GRANTED), None)


def test_on_a_tie_the_denial_wins() -> None:
    assert supersedes(consent(DENIED), consent(GRANTED))
    assert not supersedes(consent(GRANTED), consent(DENIED))


consents = st.builds(consent, st.sampled_from([GRANTED, DENIED]), st.integers(-1000, 1000), st.sampled_from(["a", "b"]))


@given(consents, consents)
def test_a_merge_never_turns_a_denial_into_a_grant(ours: Consent, theirs: Consent) -> None:
    merged = merge_consents(ours, theirs, "c-2")
    assert merged is not None
    if DENIED in (ours.state, theirs.state):
        assert merged.state == DENIED
        # Its time is the later of the two: an older grant arriving late cannot revive the person.
        assert merged.given_at == max(ours.given_at, theirs.given_at)
    assert merge_consents(theirs, ours, "c-2").state == merged.state  # symmetric in outcome


def test_merge_with_a_missing_side_keeps_the_other() -> None:
    assert merge_consents(None, consent(GRANTED), "x") == consent(GRANTED)
    assert merge_consents(consent(DENIED), None, "x") == consent(DENIED)
    assert merge_consents(None, None, "x") is None


def test_denial_from_the_merged_profile_names_the_merge() -> None:
    merged = merge_consents(consent(GRANTED, 5), consent(DENIED, 1, "store-12"), "c-store")
    assert merged is not None and merged.source == "merge of c-store: store-12"


def test_contactable_needs_address_consent_and_no_block() -> None:
    granted = consent(GRANTED)
    assert contactability("email", [], granted, {}).reason == "no address"
    assert contactability("email", ["a@x.io"], None, {}).reason == "no consent"
    assert "denied" in contactability("email", ["a@x.io"], consent(DENIED), {}).reason
    assert contactability("email", ["a@x.io"], granted, {"a@x.io": "bounced"}).reason == "bounced"
    ok = contactability("email", ["a@x.io", "b@x.io"], granted, {"a@x.io": "bounced"})
    assert ok.contactable and ok.address == "b@x.io"


def test_print_uses_the_postal_address_attribute_and_sms_the_phone() -> None:
    sms = Consent("sms", GRANTED, "consent", "form", T0)
    printed = Consent("print", GRANTED, "legitimate_interest", "form", T0)
    result = contactability_by_channel([("phone", "+33612345678")], {"postal_address": "1 rue X"},
                                       {"sms": sms, "print": printed}, {})
    assert result["sms"].contactable and result["sms"].address == "+33612345678"
    assert result["print"].contactable and "legitimate_interest" in result["print"].reason
    assert not result["call_center"].contactable and result["call_center"].reason == "no consent"
    assert result["push"].reason == "no address"
