"""Bad scenario files and bad expressions: each refused at load with file, line, field and a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from declic.scenarios.loader import DEFAULT_DIR, load_catalogue, parse

GOOD = (DEFAULT_DIR / "abandoned-cart.yaml").read_text()


def problems(text: str, name: str = "abandoned-cart.yaml") -> list[str]:
    scenario, found = parse(text, name, expected_id="abandoned-cart")
    assert (scenario is None) == bool(found)
    return [str(problem) for problem in found]


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_shipped_file_is_valid() -> None:
    assert problems(GOOD) == []


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("wait: {duration: 1 day}", "wait: {duration: 2 hourz}",
     'steps[1].wait.duration: "2 hourz" is not a duration (say e.g. "30 minutes", "2 hours", "3 days", "1 week")'),
    ("kind: conversion", "kind: conversoin",
     "kind: 'conversoin' is not one of 'time', 'event', 'behaviour', 'conversion', 'transaction' or 'campaign'"),
    ("  delay: 2 hours ", "  dealy: 2 hours ", "trigger.dealy: is not a field here (a typo?)"),
    ("channels: [email, push, sms]", "channels: [email, pigeon]",
     "steps[0].send.channels[1]: 'pigeon' is not one of 'email', 'sms', 'push', 'web', 'print' or 'call_center'"),
    ("holdout: 10", "holdout: 80", "holdout: Input should be less than or equal to 50"),
    ("      else: reassurance", "      else: reasurance", "steps: 'reasurance' is not a step id here (nor exit)"),
    ("priority: 80\n", "", "priority: is required"),
])
def test_a_bad_field_is_named_with_its_line(old: str, new: str, expected: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    [problem] = problems(text)
    assert problem.split(" ", 1)[1] == expected
    if new:
        assert problem.startswith(f"abandoned-cart.yaml:{line_of(text, new.strip())} ")


@pytest.mark.parametrize(("expression", "expected"), [
    ('event.cart_change.action == "add" &&', "trigger.when: at 1:37: Syntax error: mismatched input '<EOF>'"),
    ('event.cart_change.acton == "add"', "trigger.when: no field 'acton'"),
    ('profile.lifecylce == "active"', "trigger.when: profile has no field 'lifecylce'"),
    ('basket.id == "x"', "trigger.when: Undefined variable or function: 'basket'"),
])
def test_a_bad_expression_is_a_load_error_naming_file_and_line(expression: str, expected: str) -> None:
    text = GOOD.replace('when: event.cart_change.action == "add"', f"when: '{expression}'")
    [problem] = problems(text)
    assert problem.startswith(f"abandoned-cart.yaml:{line_of(text, expression[:12])} {expected}")


def test_an_event_scenario_never_reacts_at_once() -> None:
    text = GOOD.replace("kind: conversion", "kind: event").replace("delay: 2 hours", "delay: 10 minutes")
    [problem] = problems(text)
    assert "reacts within 1 hour to 1 day" in problem


def test_yaml_that_does_not_parse_and_a_wrong_id(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: broken\nname: [unclosed\n")
    (tmp_path / "renamed.yaml").write_text(GOOD)
    catalogue = load_catalogue(tmp_path)
    assert catalogue.scenarios == {}
    assert [str(p) for p in catalogue.problems["broken.yaml"]][0].startswith("broken.yaml:3 not valid YAML")
    assert [str(p) for p in catalogue.problems["renamed.yaml"]] == [
        "renamed.yaml:2 id: 'abandoned-cart' differs from the file name ('renamed')"]
