"""One stack of real service processes (auth off) for the whole fuzz module, warmed up before its memory is read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import pytest

from declic.kit.config import SERVICES
from declic.stack import Stack
from tests.conftest import _used_prefixes
from tests.fuzz.requests import public_methods
from tests.fuzz.target import resident_bytes, running_services, warm_up


@dataclass
class FuzzTarget:
    stack: Stack
    baseline_rss: dict[str, int]
    """Each service's RSS once every RPC has answered one empty request (lazy imports and caches filled)."""
    channels: dict[str, grpc.Channel] = field(default_factory=dict)

    def channel(self, service: str) -> grpc.Channel:
        if service not in self.channels:
            self.channels[service] = grpc.insecure_channel(self.stack.address(service))
        return self.channels[service]

    def log(self, service: str) -> str:
        """What the service (its child processes included) has logged so far."""
        assert self.stack.log_dir is not None
        return (self.stack.log_dir / f"{service}.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def fuzz_target(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    unique = uuid.uuid4().hex[:10]
    _used_prefixes.append(unique)  # the session drops this run's schemas at its end
    with running_services(database_url, redis_url, f"f{unique}", tmp_path_factory.mktemp("fuzz")) as stack:
        target = FuzzTarget(stack, {})
        warm_up(stack, public_methods())
        target.baseline_rss = {service: resident_bytes(stack, service) for service in SERVICES}
        yield target
        for channel in target.channels.values():
            channel.close()
