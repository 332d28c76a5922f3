"""`declic dead-letters list | replay` against a real Redis: what consumers set aside, listed; replayed to the
consumer group that set it aside only, once."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from declic.cli import dead_letter_commands
from declic.cli.main import app
from declic.kit.dead_letters import dead_letter_key
from declic.kit.stream import StreamConsumer, StreamPublisher, stream_key

runner = CliRunner()


@pytest.fixture
def cli_env(settings, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("DECLIC_REDIS_URL", settings.redis_url)
    monkeypatch.setenv("DECLIC_STREAM_PREFIX", settings.stream_prefix)
    monkeypatch.setenv("COLUMNS", "300")  # the table on one line per dead letter


def _set_aside_by_two_groups(settings, redis_client) -> tuple[str, dict[str, list[bytes]]]:  # noqa: ANN001
    """Publish a good and a bad record; "scenario" and "recommend" each set the bad one aside."""
    stream = stream_key(settings.stream_prefix, "handoff")
    StreamPublisher(redis_client, stream).publish([b"good", b"bad"])
    handled: dict[str, list[bytes]] = {"scenario": [], "recommend": []}
    for group, seen in handled.items():
        def handle(payload: bytes, seen: list[bytes] = seen) -> None:
            if payload == b"bad":
                raise ValueError("cannot apply this one")
            seen.append(payload)
        consumer = StreamConsumer(redis_client, stream, group, handle, block_ms=10)
        consumer.ensure_group()
        consumer.poll_once()
    return stream, handled


def test_list_shows_each_dead_letter_with_its_consumer_source_and_reason(settings, redis_client, cli_env,
                                                                         monkeypatch) -> None:
    # A terminal wide enough that rich does not wrap the reason inside its cell (CI has no terminal: 80 columns).
    monkeypatch.setattr(dead_letter_commands.console, "width", 300)
    stream, _ = _set_aside_by_two_groups(settings, redis_client)
    shown = runner.invoke(app, ["dead-letters", "list"])
    assert shown.exit_code == 0, shown.output
    assert "scenario" in shown.output and "recommend" in shown.output
    assert "ValueError: cannot apply this one" in shown.output
    source_id = redis_client.xrange(stream)[1][0].decode()
    assert source_id in shown.output
    assert f"{stream} / scenario: 1 waiting, 1 set aside in all" in shown.output
    one = runner.invoke(app, ["dead-letters", "list", "--consumer", "recommend", "--limit", "1"])
    assert "recommend" in one.output and "/ scenario" not in one.output


def test_replay_sends_a_dead_letter_back_to_its_group_only(settings, redis_client, cli_env) -> None:
    stream, handled = _set_aside_by_two_groups(settings, redis_client)
    [(dead_id, _)] = redis_client.xrange(dead_letter_key(stream, "scenario"))
    replayed = runner.invoke(app, ["dead-letters", "replay", "--consumer", "scenario", "--id", dead_id.decode()])
    assert replayed.exit_code == 0, replayed.output
    assert "1 dead letter replayed" in replayed.output
    assert redis_client.xlen(dead_letter_key(stream, "scenario")) == 0
    again = runner.invoke(app, ["dead-letters", "replay", "--consumer", "scenario", "--id", dead_id.decode()])
    assert again.exit_code == 1  # gone from the dead letters: replayed once only
    seen: dict[str, list[bytes]] = {"scenario": [], "recommend": []}
    for group in seen:  # the bug is fixed: now every record applies
        consumer = StreamConsumer(redis_client, stream, group, seen[group].append, block_ms=10)
        consumer.poll_once()
    assert seen == {"scenario": [b"bad"], "recommend": []}  # recommend skips what was replayed for scenario
    assert handled == {"scenario": [b"good"], "recommend": [b"good"]}
    assert redis_client.xpending(stream, "recommend")["pending"] == 0


def test_replay_all_of_every_group_and_the_arguments_it_refuses(settings, redis_client, cli_env) -> None:
    stream, _ = _set_aside_by_two_groups(settings, redis_client)
    assert runner.invoke(app, ["dead-letters", "replay"]).exit_code == 2  # neither --id nor --all
    assert runner.invoke(app, ["dead-letters", "replay", "--id", "x" * 500]).exit_code == 2
    replayed = runner.invoke(app, ["dead-letters", "replay", "--all"])
    assert replayed.exit_code == 0, replayed.output
    assert "2 dead letters replayed" in replayed.output
    assert [redis_client.xlen(dead_letter_key(stream, group)) for group in ("scenario", "recommend")] == [0, 0]
    assert "No dead letters" not in runner.invoke(app, ["dead-letters", "list"]).output  # the counts remain
