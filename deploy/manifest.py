"""One rendered Kubernetes object, with the file that declared it, whichever renderer built it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


class KustomizeError(Exception):
    """A kustomization this renderer cannot build; the message names the file."""


@dataclass
class Manifest:
    """One rendered Kubernetes object and where it came from."""

    obj: dict[str, Any]
    source: Path

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", "?"))

    @property
    def name(self) -> str:
        return str(self.obj.get("metadata", {}).get("name", "?"))

    @property
    def ref(self) -> str:
        """`Kind/name`, as kubectl prints it."""
        return f"{self.kind}/{self.name}"

    def origin(self, root: Path | None = None) -> str:
        """The declaring file, relative to `root` when given."""
        return str(self.source.relative_to(root)) if root and self.source.is_relative_to(root) else str(self.source)


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """`registry/name:tag@digest` → (name with registry, tag, digest)."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:], digest or None
    return name, None, digest or None
