"""`declic dead-letters list | replay`: the records consumers set aside, and sending them back to be tried again.

Talks to Redis through the kit (`kit.dead_letters`), on DECLIC_REDIS_URL under DECLIC_STREAM_PREFIX."""

from __future__ import annotations

import re
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from declic.kit import dead_letters
from declic.kit.config import ConfigError, load_settings
from declic.kit.redis_client import make_redis

console = Console()
dead_letters_app = typer.Typer(help="Records the consumers could not apply: list them, replay them.",
                               no_args_is_help=True)
Consumer = Annotated[str, typer.Option("--consumer", "-c", help="Only this consumer group (profile, scenario, …).")]
_ENTRY_ID = re.compile(r"^\d+-\d+$")


def _connect():  # type: ignore[no-untyped-def]
    try:
        settings = load_settings()
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    return make_redis(settings), settings.stream_prefix


@dead_letters_app.command("list")
def list_command(
    consumer: Consumer = "",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many, newest first.")] = 20,
) -> None:
    """The newest dead letters: where each came from, why it was set aside, and when."""
    client, prefix = _connect()
    totals = dead_letters.counts(client, prefix)
    letters = dead_letters.newest(client, prefix, consumer or None, limit)
    table = Table(title="Dead letters")
    for column in ("stream", "consumer", "id", "source id", "reason", "when (UTC)"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        table.add_row(letter.stream, letter.group, letter.dead_id, letter.source_id, letter.reason,
                      letter.at.strftime("%Y-%m-%d %H:%M:%S"))
    console.print(table)
    for (stream, group), (waiting, ever) in sorted(totals.items()):
        if not consumer or group == consumer:
            console.print(f"{stream} / {group}: {waiting:,} waiting, {ever:,} set aside in all")
    if not totals:
        console.print("No dead letters.")


@dead_letters_app.command("replay")
def replay_command(
    consumer: Consumer = "",
    dead_id: Annotated[str, typer.Option("--id", help="The dead letter's id (the list's id column).")] = "",
    replay_all: Annotated[bool, typer.Option("--all", help="Every dead letter (of --consumer, if given).")] = False,
) -> None:
    """Append dead letters to their stream again, for their consumer group only, and remove them from the dead
    letters. Consumers apply a record once (inbox), so replaying one that was applied already changes nothing."""
    if bool(dead_id) == replay_all:
        console.print("[red]give either --id ID or --all[/red]")
        raise typer.Exit(2)
    if dead_id and not _ENTRY_ID.match(dead_id):
        console.print(f"[red]--id {dead_id[:64]!r} is not an entry id (like 1712000000000-0)[/red]")
        raise typer.Exit(2)
    client, prefix = _connect()
    streams = dead_letters.dead_letter_streams(client, prefix, consumer or None)
    if dead_id:
        streams = [(stream, group) for stream, group in streams
                   if client.xrange(dead_letters.dead_letter_key(stream, group), min=dead_id, max=dead_id)]
        if len(streams) > 1:
            console.print(f"[red]{dead_id} is a dead letter of several consumers; choose one with --consumer[/red]")
            raise typer.Exit(2)
        if not streams:
            console.print(f"[red]no dead letter {dead_id}{' of ' + consumer if consumer else ''}[/red]")
            raise typer.Exit(1)
    replayed = 0
    for stream, group in streams:
        count = dead_letters.replay(client, stream, group, [dead_id] if dead_id else None)
        if count:
            console.print(f"{stream} / {group}: {count:,} replayed")
        replayed += count
    console.print(f"{replayed:,} dead letter{'' if replayed == 1 else 's'} replayed.")


def register(app: typer.Typer) -> None:
    """Add `declic dead-letters …` to the console script."""
    app.add_typer(dead_letters_app, name="dead-letters")
