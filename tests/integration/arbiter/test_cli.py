"""`declic policy validate`, `declic arbiter explain` and `declic arbiter pressure` against a running arbiter."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from declic.arbiter.v1 import arbiter_pb2_grpc
from declic.cli import arbiter_commands
from declic.cli.main import app
from tests.integration.arbiter.support import capped, decide_request

pytestmark = pytest.mark.integration


def test_policy_validate_names_each_problem(tmp_path, monkeypatch) -> None:
    # The command's console was made at import (perhaps by another test): widen it itself, not the terminal.
    monkeypatch.setattr(arbiter_commands.console, "width", 300)
    runner = CliRunner()
    good = runner.invoke(app, ["policy", "validate", "policies/pressure.yaml"], terminal_width=200)
    assert good.exit_code == 0 and "valid" in good.output and "version" in good.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("caps:\n  - {name: a, limit: -2, window: {rolling: 7 days}}\nmin_gap: soon\n")
    refused = runner.invoke(app, ["policy", "validate", str(bad)], terminal_width=200)
    assert refused.exit_code == 1
    assert f"{bad}:2 caps[0].limit:" in refused.output and f"{bad}:3 min_gap:" in refused.output


def test_explain_and_pressure(start_service) -> None:
    running, channel = start_service("arbiter", policy=capped(1), intake=False)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    stub.Decide(decide_request("f1"))
    stub.Decide(decide_request("f2"))
    address = ["--address", f"127.0.0.1:{running.port}"]
    runner = CliRunner()
    explained = runner.invoke(app, ["arbiter", "explain", "f2", *address], terminal_width=200)
    assert explained.exit_code == 0, explained.output
    assert "suppress" in explained.output and "cap:week" in explained.output and "blocked" in explained.output
    pressure = runner.invoke(app, ["arbiter", "pressure", "c-1", *address], terminal_width=200)
    assert pressure.exit_code == 0 and "cap:week" in pressure.output and "global" in pressure.output
    missing = runner.invoke(app, ["arbiter", "explain", "nope", *address], terminal_width=200)
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.output
