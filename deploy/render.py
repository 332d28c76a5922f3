"""Render a kustomization: with `kubectl kustomize` (kustomize v5, built into kubectl), or in Python without it.

`render()` runs kubectl when it is on PATH, and deploy.kustomize (the subset of
kustomize that deploy/k8s uses, in Python) only where it is not, so `make lint`
still works on a machine without kubectl. The unit tests hold both to the same
objects, each from the same file, for every target deploy.check renders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from deploy.kustomize import render_in_python
from deploy.manifest import KustomizeError, Manifest

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"


def render(directory: Path) -> list[Manifest]:
    """Build the kustomization in `directory`: `kubectl kustomize`, or the Python renderer where kubectl is absent."""
    kubectl = shutil.which("kubectl")
    return render_with_kubectl(directory, kubectl) if kubectl else render_in_python(directory)


def render_with_kubectl(directory: Path, kubectl: str = "kubectl") -> list[Manifest]:
    """`kubectl kustomize directory`, each object with the file that declared it.

    The build goes through a throw-away kustomization that only adds kustomize's
    origin annotations (`buildMetadata: [originAnnotations]`); they are read, then
    removed, so the objects are exactly those `kubectl kustomize directory` prints.
    """
    directory = directory.resolve()
    if not (directory / "kustomization.yaml").is_file():
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    with tempfile.TemporaryDirectory(prefix="declic-kustomize-") as scratch:
        wrapper = Path(scratch).resolve()
        (wrapper / "kustomization.yaml").write_text(yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            # kustomize refuses absolute resource paths
            "resources": [os.path.relpath(directory, wrapper)],
            "buildMetadata": ["originAnnotations"],
        }))
        built = subprocess.run([kubectl, "kustomize", str(wrapper)], capture_output=True, text=True, check=False)
        if built.returncode != 0:
            message = built.stderr.strip().replace(os.path.relpath(directory, wrapper), str(directory))
            message = message.split('err="', 1)[-1].removesuffix('"')  # without klog's prefix
            raise KustomizeError(f"{directory}: kubectl kustomize failed: {message}")
        return [_with_origin(obj, wrapper) for obj in yaml.safe_load_all(built.stdout) if obj]


def _with_origin(obj: dict[str, Any], wrapper: Path) -> Manifest:
    metadata = obj.get("metadata", {})
    annotations = metadata.get("annotations", {})
    origin = yaml.safe_load(annotations.pop(ORIGIN_ANNOTATION, "") or "{}") or {}
    if not annotations:
        metadata.pop("annotations", None)
    return Manifest(obj, (wrapper / origin.get("path", "?")).resolve())
