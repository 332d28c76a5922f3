"""`make demo` keeps working: a small replay of the UCI data through the real stack."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_replays_and_reports() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "declic.cli.main", "demo", "--customers", "15"],
        capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout
    for title in ("Events through ingest", "Messages sent, per scenario and", "Held back by the arbiter",
                  "Profiles at the end of the replay"):
        assert title in output
    assert "firings for 15 customers" in output
