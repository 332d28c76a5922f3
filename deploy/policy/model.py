"""What the policy checks share: findings, expectations, and look-ups in a rendered target."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from declic.kit.config import DEFAULT_PORTS, SERVICES
from deploy.manifest import WORKLOAD_KINDS, Manifest

DECLIC_IMAGE = "declic"
CONFIG_MAP = "declic-config"
DISPATCH_HTTP_PORT = 8080


@dataclass(frozen=True)
class Finding:
    """The outcome of one check on one object: `problem` is None when it passed."""

    check: str
    subject: str
    origin: str
    problem: str | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Expectations:
    """What a rendered target must additionally satisfy (production is stricter)."""

    min_replicas: dict[str, int] = field(default_factory=dict)
    # Secrets the operator creates by hand (docs/deploy.md), so absent from the rendering.
    external_secrets: frozenset[str] = frozenset({"declic-database", "declic-auth"})


class Rendering:
    """A rendered target with look-ups the checks share."""

    def __init__(self, manifests: list[Manifest], root: Path) -> None:
        self.manifests = manifests
        self.root = root

    def of_kind(self, *kinds: str) -> list[Manifest]:
        return [m for m in self.manifests if m.kind in kinds]

    def named(self, kind: str, name: str) -> Manifest | None:
        return next((m for m in self.manifests if m.kind == kind and m.name == name), None)

    def workloads(self) -> list[Manifest]:
        return self.of_kind(*WORKLOAD_KINDS)

    def declic_deployments(self) -> list[Manifest]:
        return [m for m in self.of_kind("Deployment") if m.name in SERVICES]

    def config_data(self, names: Iterable[str]) -> dict[str, str]:
        data: dict[str, str] = {}
        for name in names:
            config_map = self.named("ConfigMap", name)
            if config_map is not None:
                data.update({k: str(v) for k, v in (config_map.obj.get("data") or {}).items()})
        return data

    def secret_value(self, name: str, key: str) -> str | None:
        secret = self.named("Secret", name)
        if secret is None:
            return None
        value = (secret.obj.get("stringData") or {}).get(key)
        return None if value is None else str(value)


def pod_spec(manifest: Manifest) -> dict[str, Any]:
    """The pod template's spec of a workload ({} for other kinds)."""
    return manifest.obj.get("spec", {}).get("template", {}).get("spec", {})


def containers(manifest: Manifest) -> list[dict[str, Any]]:
    """Init containers and containers of a workload's pod template."""
    spec = pod_spec(manifest)
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def container_env(rendering: Rendering, container: dict[str, Any]) -> dict[str, str]:
    """The literal environment a container sees: its ConfigMaps, then its own `env` values."""
    maps = [src["configMapRef"]["name"] for src in container.get("envFrom", []) if "configMapRef" in src]
    env = rendering.config_data(maps)
    env.update({var["name"]: str(var["value"]) for var in container.get("env", []) if "value" in var})
    return env


def verdict(check: str, manifest: Manifest, root: Path, problems: list[str]) -> list[Finding]:
    """One passing finding for `manifest`, or one failing finding per problem."""
    origin = manifest.origin(root)
    if not problems:
        return [Finding(check, manifest.ref, origin)]
    return [Finding(check, manifest.ref, origin, problem) for problem in problems]


def configured_port(rendering: Rendering, container: dict[str, Any], service: str) -> int:
    """The port the service listens on: DECLIC_<SERVICE>_PORT, else the default."""
    value = container_env(rendering, container).get(f"DECLIC_{service.upper()}_PORT")
    return int(value) if value and value.isdigit() else DEFAULT_PORTS[service]


def selects(selector: dict[str, str], workload: Manifest) -> bool:
    """Whether a (non-empty) label selector matches the workload's pods."""
    labels = workload.obj.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def has_port(workload: Manifest, port_name: str) -> bool:
    """Whether one of the workload's containers has a port of that name."""
    return any(p.get("name") == port_name for c in containers(workload) for p in c.get("ports", []))
