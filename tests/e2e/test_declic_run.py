"""`declic run` as a user runs it: six services up, one killed comes back by itself, Ctrl-C stops everything."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from declic.kit.config import SERVICES, load_settings
from declic.stack import REPO_ROOT, health_status, running_addresses
from tests.conftest import free_port
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e


def _service_process(run: subprocess.Popen[bytes], name: str) -> psutil.Process | None:
    for child in psutil.Process(run.pid).children():
        if f"services.{name}" in child.cmdline():
            return child
    return None


def test_a_killed_service_comes_back_and_ctrl_c_stops_the_stack(
    tmp_path: Path, database_url: str, redis_url: str, unique_id: str
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DECLIC_DATABASE_URL": database_url,
        "DECLIC_DB_SCHEMA_PREFIX": f"r{unique_id}_",
        "DECLIC_REDIS_URL": redis_url,
        "DECLIC_STREAM_PREFIX": f"r{unique_id}",
        "DECLIC_VAR_DIR": str(tmp_path / "var"),
        "DECLIC_GRACE_PERIOD_SECONDS": "1",
        "DECLIC_DRAIN_SECONDS": "0",
        **{f"DECLIC_{name.upper()}_PORT": str(free_port()) for name in SERVICES},
    }
    output = open(tmp_path / "run.log", "wb")  # noqa: SIM115 - closed below
    run = subprocess.Popen([sys.executable, "-m", "declic.cli.main", "run"], cwd=REPO_ROOT, env=env,
                           stdout=output, stderr=subprocess.STDOUT)
    try:
        # `declic status` finds the stack from its record under var/, whatever the caller's ports.
        addresses = eventually(lambda: running_addresses(tmp_path / "var"), timeout=120)
        settings = load_settings(**{k.removeprefix("DECLIC_").lower(): v for k, v in env.items() if k != "PATH"})
        assert addresses == {name: settings.address(name) for name in SERVICES}

        victim = _service_process(run, "profile")
        assert victim is not None
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        others = [name for name in SERVICES if name != "profile"]
        assert all(health_status(addresses[name]) == "SERVING" for name in others)
        started = time.monotonic()
        eventually(lambda: health_status(addresses["profile"]) == "SERVING", timeout=30)
        back_after = time.monotonic() - started
        assert back_after < 30
        assert _service_process(run, "profile").pid != victim.pid  # type: ignore[union-attr]
        assert run.poll() is None  # one death is not an outage

        children = psutil.Process(run.pid).children()
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) == 0
        assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children)
        assert running_addresses(tmp_path / "var") is None
    finally:
        if run.poll() is None:
            run.kill()
        output.close()
    log = (tmp_path / "run.log").read_text()
    assert "profile" in log and "SIGKILL" in log
