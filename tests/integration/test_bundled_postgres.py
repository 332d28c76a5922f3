"""The embedded default's PostgreSQL: one server per folder, found again when running, back after a kill -9.

These tests start the bundled server whatever DECLIC_DATABASE_URL says: it is what `make run` gives a new user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from declic.kit import bundled_postgres


@pytest.fixture
def var_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="declic-bundled-"))
    try:
        yield folder
    finally:
        bundled_postgres.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _postmaster_pid(var_dir: Path) -> int:
    return int((bundled_postgres.data_dir(var_dir) / "postmaster.pid").read_text().split("\n", 1)[0])


def test_data_survives_a_stop_and_the_next_start(var_dir: Path) -> None:
    url = bundled_postgres.ensure_running(var_dir)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
        assert conn.execute("SHOW max_connections").fetchone() == (str(bundled_postgres.MAX_CONNECTIONS),)
    bundled_postgres.stop(var_dir)
    assert not bundled_postgres.is_running(var_dir)
    with psycopg.connect(bundled_postgres.ensure_running(var_dir)) as conn:
        assert conn.execute("SELECT value FROM kept").fetchall() == [("still here",)]


def test_a_running_server_is_found_not_started_twice(var_dir: Path) -> None:
    first = bundled_postgres.ensure_running(var_dir)
    pid = _postmaster_pid(var_dir)
    assert bundled_postgres.ensure_running(var_dir) == first
    assert _postmaster_pid(var_dir) == pid


def test_a_server_killed_with_sigkill_does_not_block_the_next_start(var_dir: Path) -> None:
    bundled_postgres.ensure_running(var_dir)
    pid = _postmaster_pid(var_dir)
    os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).wait(timeout=10)
    url = bundled_postgres.ensure_running(var_dir)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_two_folders_are_two_servers_on_their_own_sockets() -> None:
    folders = [Path(tempfile.mkdtemp(prefix="declic-bundled-")) for _ in range(2)]
    try:
        urls = [bundled_postgres.ensure_running(folder) for folder in folders]
        assert urls[0] != urls[1]
        for url, folder in zip(urls, folders, strict=True):
            with psycopg.connect(url) as conn:
                assert conn.execute("SHOW data_directory").fetchone() == (str(bundled_postgres.data_dir(folder)),)
    finally:
        for folder in folders:
            bundled_postgres.stop(folder)
            shutil.rmtree(folder, ignore_errors=True)
