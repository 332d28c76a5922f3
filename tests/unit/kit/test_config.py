"""Configuration from DECLIC_* variables: defaults give the embedded stack, bad values are named."""

from __future__ import annotations

import pytest

from declic.kit.config import ConfigError, load_settings


def test_defaults_are_the_embedded_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DECLIC_DATABASE_URL", "DECLIC_REDIS_URL", "DECLIC_INGEST_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.uses_bundled_postgres and settings.database_url == ""
    assert settings.redis_url == "redis://127.0.0.1:6390/0"
    assert [settings.port(s) for s in ("ingest", "profile", "scenario", "recommend", "arbiter", "dispatch")] == [
        50051, 50052, 50053, 50054, 50055, 50056,
    ]
    assert settings.address("arbiter") == "127.0.0.1:50055"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DECLIC_DATABASE_URL", "postgresql://u@db:5432/declic")
    monkeypatch.setenv("DECLIC_PROFILE_ADDRESS", "profile.declic.svc:50052")
    monkeypatch.setenv("DECLIC_INGEST_PORT", "6000")
    settings = load_settings()
    assert not settings.uses_bundled_postgres
    assert settings.address("profile") == "profile.declic.svc:50052"
    assert settings.port("ingest") == 6000


def test_every_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DECLIC_DATABASE_URL", "mysql://x")
    monkeypatch.setenv("DECLIC_INGEST_PORT", "70000")
    monkeypatch.setenv("DECLIC_LOG_LEVEL", "chatty")
    monkeypatch.setenv("DECLIC_REDIS_URL", "localhost:6379")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    for variable in ("DECLIC_DATABASE_URL", "DECLIC_INGEST_PORT", "DECLIC_LOG_LEVEL", "DECLIC_REDIS_URL"):
        assert variable in message
    assert "must be a postgresql:// URL" in message


def test_non_numeric_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DECLIC_ARBITER_PORT", "eighty")
    with pytest.raises(ConfigError, match="DECLIC_ARBITER_PORT"):
        load_settings()


def test_auth_tokens_are_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DECLIC_AUTH_TOKENS", '{"t1": ["profile:read"]}')
    assert load_settings().auth_tokens == {"t1": ["profile:read"]}
    monkeypatch.setenv("DECLIC_AUTH_TOKENS", "{oops")
    with pytest.raises(ConfigError, match="DECLIC_AUTH_TOKENS: Value error, must be a JSON object"):
        load_settings()
