"""The arbiter's decisions commit without waiting for the disk (unless told to); everything else waits."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from declic.arbiter.v1 import arbiter_pb2_grpc
from declic.kit.config import Settings
from declic.kit.database import make_engine
from services.arbiter.main import bootstrap


def _synchronous_commit(bind) -> str:  # type: ignore[no-untyped-def]
    with bind.connect() as connection:
        return str(connection.execute(text("SHOW synchronous_commit")).scalar())


def test_an_engine_commits_asynchronously_only_when_asked(settings: Settings) -> None:
    strict, relaxed = make_engine(settings, "arbiter"), make_engine(settings, "arbiter", synchronous_commit=False)
    try:
        assert _synchronous_commit(strict) == "on"
        assert _synchronous_commit(relaxed) == "off"
        with relaxed.connect() as connection:  # the schema is still the service's own
            assert connection.execute(text("SHOW search_path")).scalar() == f"{settings.db_schema_prefix}arbiter"
    finally:
        strict.dispose()
        relaxed.dispose()


@pytest.mark.parametrize(("setting", "expected"), [(None, "off"), ("true", "on")])
def test_the_decision_path_commits_as_the_setting_says(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                        setting: str | None, expected: str) -> None:
    if setting is None:
        monkeypatch.delenv("DECLIC_ARBITER_SYNCHRONOUS_DECISIONS", raising=False)
    else:
        monkeypatch.setenv("DECLIC_ARBITER_SYNCHRONOUS_DECISIONS", setting)
    servicers = []
    monkeypatch.setattr(arbiter_pb2_grpc, "add_ArbiterServiceServicer_to_server",
                        lambda servicer, server: servicers.append(servicer))
    app = bootstrap(settings, intake=False)
    try:
        app.register(None)  # type: ignore[arg-type]
        service = servicers[0]._service
        assert _synchronous_commit(service._engine) == expected
        # Confirmations, releases, exclusions and the hand-off intake keep waiting for the disk.
        with service._uow.begin() as session:
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"
    finally:
        for stop in app.on_stop:
            stop()
