"""The policy file: the shipped one validates, errors name file:line field, a change is reloaded, versions differ."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from services.arbiter.policy_file import PolicyError, PolicySource, load_policy, parse_policy
from services.arbiter.settings import DEFAULT_POLICY_FILE


def test_the_shipped_policy_validates_and_is_versioned_by_content() -> None:
    policy = load_policy(DEFAULT_POLICY_FILE)
    assert [cap.name for cap in policy.caps][:2] == ["global-week", "global-day"]
    assert policy.cool_off.return_ == timedelta(days=7) and policy.min_gap == timedelta(hours=4)
    assert policy.priority.holding_window == timedelta(minutes=2)
    assert len(policy.version) == 12
    assert parse_policy("timezone: UTC\n").version != parse_policy("timezone: Europe/Paris\n").version


def test_errors_name_the_file_the_line_and_the_field() -> None:
    text = """timezone: Mars/Olympus
caps:
  - name: week
    limit: 3
    window: {rolling: 7 days}
  - name: sms
    scope: channel
    value: pigeon
    limit: -1
    window: {calendar: fortnight}
min_gap: soon
"""
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    problems = "\n".join(caught.value.problems)
    assert "p.yaml:1 timezone: 'Mars/Olympus' is not an IANA timezone" in problems
    assert "p.yaml:9 caps[1].limit:" in problems
    assert "p.yaml:10 caps[1].window.calendar:" in problems
    assert 'p.yaml:11 min_gap: "soon" is not a duration' in problems


def test_unknown_fields_and_bad_yaml_are_refused() -> None:
    with pytest.raises(PolicyError, match=r"p.yaml:2 quiet: Extra inputs"):
        parse_policy("timezone: UTC\nquiet: {start: '21:00'}\n", "p.yaml")
    with pytest.raises(PolicyError, match=r"p.yaml:3: not valid YAML"):
        parse_policy("caps:\n  - [\n", "p.yaml")
    with pytest.raises(PolicyError, match="exactly one of rolling"):
        parse_policy("caps: [{name: a, limit: 1, window: {rolling: 1 day, calendar: day}}]\n")


def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_last_good(tmp_path: Path) -> None:
    path = tmp_path / "pressure.yaml"
    path.write_text("min_gap: 1 hour\n")
    source = PolicySource(path=path)
    source.CHECK_EVERY = 0
    assert source.current().min_gap == timedelta(hours=1)
    path.write_text("min_gap: 2 hours\n")
    os.utime(path, ns=(1, 10**18))
    assert source.current().min_gap == timedelta(hours=2)
    path.write_text("min_gap: never\n")
    os.utime(path, ns=(1, 2 * 10**18))
    assert source.current().min_gap == timedelta(hours=2)
