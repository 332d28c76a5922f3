"""`declic profile …` against a running profile service."""

from __future__ import annotations

import json
from datetime import timedelta

import typer
from typer.testing import CliRunner

from declic.cli.profile_commands import register
from tests.integration.profile.conftest import START
from tests.integration.profile.records import consent, ident, identify, order

runner = CliRunner()


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # a group, as in declic.cli.main
        pass

    return app


def test_lookup_export_and_erase_from_the_shell(profile) -> None:
    _, publish = profile
    publish([identify("c-cli", START - timedelta(days=3), [ident("email", "cli@example.com"),
                                                               ident("phone", "+33612345677")],
                      first_name="Clio", consents=[consent("email", True, START - timedelta(days=3))]),
             order("c-cli", START - timedelta(days=1), "o-cli", [("p", "garden", 1, 12.5)])])
    target = profile.address
    app = _cli()
    shown = runner.invoke(app, ["profile", "lookup", "--phone", "06 12 34 56 77", "--address", target])
    assert shown.exit_code == 0, shown.output
    assert "Clio" in shown.output and "cli@example.com" in shown.output and "garden" in shown.output
    missing = runner.invoke(app, ["profile", "lookup", "--email", "nobody@example.com", "--address", target])
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.output
    both = runner.invoke(app, ["profile", "lookup", "--email", "a@b.c", "--phone", "1", "--address", target])
    assert both.exit_code == 2
    exported = runner.invoke(app, ["profile", "export", "c-cli", "--address", target])
    assert json.loads(exported.output)["customer"]["first_name"] == "Clio"
    refused = runner.invoke(app, ["profile", "erase", "c-cli", "--address", target], input="n\n")
    assert refused.exit_code == 1 and "nothing erased" in refused.output
    erased = runner.invoke(app, ["profile", "erase", "c-cli", "--yes", "--address", target])
    assert erased.exit_code == 0 and "erased c-cli" in erased.output
    gone = runner.invoke(app, ["profile", "show", "c-cli", "--address", target])
    assert gone.exit_code == 1 and "erased" in gone.output
