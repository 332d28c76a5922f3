"""Composing a message: the firing's template, its variables, one id per firing and channel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from jinja2.exceptions import SecurityError

from services.dispatch.domain.messages import DeliveryState, SendOrder, compose, message_id_for
from services.dispatch.domain.templates import Template, render

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)


def order(template_id: str = "welcome", channel: str = "email", **variables: str) -> SendOrder:
    return SendOrder("f-1", "welcome", "c-1", channel, "ann@example.com", template_id, dict(variables))


def test_welcome_is_personalised_when_the_name_is_known() -> None:
    assert compose(order(first_name="Ann"), NOW).subject == "Welcome, Ann!"
    anonymous = compose(order(), NOW)
    assert anonymous.subject == "Welcome!" and anonymous.body.startswith("Hello there,")
    assert (anonymous.state, anonymous.created_at) == (DeliveryState.SENT, NOW)


def test_an_unknown_template_falls_back_to_the_generic_one() -> None:
    assert compose(order(template_id="no-such-template"), NOW).subject == "News for you"


def test_one_message_id_per_firing_and_channel() -> None:
    assert compose(order(), NOW).message_id == message_id_for("f-1", "email")
    assert message_id_for("f-1", "email") != message_id_for("f-1", "sms")
    assert message_id_for("f-1", "email") != message_id_for("f-2", "email")


def test_templates_cannot_reach_python_internals() -> None:
    with pytest.raises(SecurityError):
        render(Template("evil", "{{ ''.__class__.__mro__[1].__subclasses__() }}", ""), {})
