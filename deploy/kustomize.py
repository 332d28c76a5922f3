"""The subset of kustomize that deploy/k8s uses, in Python, so `make lint` needs no binary.

Supported in a kustomization.yaml (kind Kustomization or Component): `resources`
(files or directories), `components`, `patches` (strategic merge, from `path`,
the target named by the patch's own kind and name), `namespace`, `labels`
(without `includeSelectors`), `replicas` and `images`. Anything else is an
error rather than a silent difference from `kubectl kustomize`; the unit tests
compare both renderings whenever kubectl is installed.

Every object remembers the file that declared it and the patches applied to
it, so a failed check can name the file to fix.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "components", "patches", "namespace", "labels",
                        "replicas", "images"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                        "CustomResourceDefinition", "PriorityClass"}
# patchMergeKey of the lists we may patch (from the Kubernetes API types); other lists are replaced.
# `ports` merge on containerPort in a container and on port in a Service.
LIST_MERGE_KEYS = {"containers": ("name",), "initContainers": ("name",), "volumes": ("name",), "env": ("name",),
                   "volumeMounts": ("mountPath",), "imagePullSecrets": ("name",), "ports": ("containerPort", "port")}


class KustomizeError(Exception):
    """A kustomization this renderer cannot build; the message names the file."""


@dataclass
class Manifest:
    """One rendered Kubernetes object and where it came from."""

    obj: dict[str, Any]
    source: Path
    patched_by: list[Path] = field(default_factory=list)

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
        """The declaring file (and patches), relative to `root` when given."""
        files = [self.source, *self.patched_by]
        shown = [str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path) for path in files]
        return shown[0] + (f" (patched by {', '.join(shown[1:])})" if len(shown) > 1 else "")


def render(directory: Path) -> list[Manifest]:
    """Build the kustomization in `directory`, like `kubectl kustomize directory`."""
    return _build(directory.resolve(), expected_kind="Kustomization")


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The non-empty YAML documents of a file, each a mapping."""
    try:
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    except (OSError, yaml.YAMLError) as exc:
        raise KustomizeError(f"{path}: cannot read YAML: {exc}") from None
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict) or "kind" not in doc or "name" not in doc.get("metadata", {}):
            raise KustomizeError(f"{path}: document {index + 1} is not a Kubernetes object (kind, metadata.name)")
    return documents


def _build(directory: Path, expected_kind: str) -> list[Manifest]:
    kustomization = _load_kustomization(directory, expected_kind)
    accumulated: list[Manifest] = []
    _accumulate(accumulated, directory, kustomization)
    return accumulated


def _accumulate(accumulated: list[Manifest], directory: Path, kustomization: dict[str, Any]) -> None:
    """What kustomize does for one kustomization: resources, then components, then transformers."""
    here = directory / "kustomization.yaml"
    for entry in kustomization.get("resources", []):
        target = (directory / entry).resolve()
        if target.is_dir():
            found = _build(target, expected_kind="Kustomization")
        elif target.is_file():
            found = [Manifest(doc, target) for doc in load_documents(target)]
        else:
            raise KustomizeError(f"{here}: resource {entry!r} does not exist")
        for manifest in found:
            if _find(accumulated, manifest.obj) is not None:
                raise KustomizeError(f"{here}: {manifest.ref} from {manifest.source} is declared twice")
            accumulated.append(manifest)
    for entry in kustomization.get("components", []):
        component = (directory / entry).resolve()
        _accumulate(accumulated, component, _load_kustomization(component, expected_kind="Component"))
    _transform(accumulated, directory, kustomization)


def _load_kustomization(directory: Path, expected_kind: str) -> dict[str, Any]:
    path = directory / "kustomization.yaml"
    if not path.is_file():
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    try:
        kustomization = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise KustomizeError(f"{path}: cannot read YAML: {exc}") from None
    kind = kustomization.get("kind", "Kustomization")
    if kind != expected_kind:
        raise KustomizeError(f"{path}: kind {kind} where a {expected_kind} is expected")
    unsupported = sorted(set(kustomization) - KUSTOMIZATION_FIELDS)
    if unsupported:
        raise KustomizeError(f"{path}: deploy.kustomize does not support {', '.join(unsupported)}")
    return kustomization


def _transform(accumulated: list[Manifest], directory: Path, kustomization: dict[str, Any]) -> None:
    """kustomize's order of built-in transformers: patches, namespace, labels, replicas, images."""
    here = directory / "kustomization.yaml"
    for patch in kustomization.get("patches", []):
        _apply_patch_file(accumulated, here, directory, patch)
    if "namespace" in kustomization:
        for manifest in accumulated:
            if manifest.kind not in CLUSTER_SCOPED_KINDS:
                manifest.obj.setdefault("metadata", {})["namespace"] = kustomization["namespace"]
    for label in kustomization.get("labels", []):
        _apply_labels(accumulated, here, label)
    for replica in kustomization.get("replicas", []):
        _apply_replicas(accumulated, here, replica)
    for image in kustomization.get("images", []):
        for manifest in accumulated:
            for container in _containers(manifest.obj):
                container["image"] = _retag(container.get("image", ""), image)


def _apply_patch_file(accumulated: list[Manifest], here: Path, directory: Path, patch: dict[str, Any]) -> None:
    if set(patch) != {"path"}:
        raise KustomizeError(f"{here}: only `patches: - path: <file>` (strategic merge) is supported")
    path = (directory / patch["path"]).resolve()
    if not path.is_file():
        raise KustomizeError(f"{here}: patch {patch['path']!r} does not exist")
    for document in load_documents(path):
        target = _find(accumulated, document)
        if target is None:
            ref = f"{document['kind']}/{document['metadata']['name']}"
            raise KustomizeError(f"{path}: patches {ref}, which no resource declares")
        target.obj = strategic_merge(target.obj, document, where=str(path))
        target.patched_by.append(path)


def strategic_merge(original: Any, patch: Any, where: str) -> Any:
    """Merge `patch` into `original` as Kubernetes' strategic merge patch does for our lists."""
    if not isinstance(original, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(original)
    for key, value in patch.items():
        if isinstance(key, str) and key.startswith("$"):
            raise KustomizeError(f"{where}: patch directive {key} is not supported")
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, list) and isinstance(merged.get(key), list) and LIST_MERGE_KEYS.get(key):
            merged[key] = _merge_list(merged[key], value, _merge_key(key, merged[key]), where)
        else:
            merged[key] = strategic_merge(merged.get(key), value, where)
    return merged


def _merge_key(field_name: str, items: list[Any]) -> str:
    candidates = LIST_MERGE_KEYS[field_name]
    return next((key for key in candidates if any(isinstance(i, dict) and key in i for i in items)), candidates[0])


def _merge_list(original: list[Any], patch: list[Any], merge_key: str, where: str) -> list[Any]:
    merged = copy.deepcopy(original)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise KustomizeError(f"{where}: every item of a merged list needs its {merge_key!r}")
        existing = next((i for i, old in enumerate(merged) if old.get(merge_key) == item[merge_key]), None)
        if existing is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[existing] = strategic_merge(merged[existing], item, where)
    return merged


def _apply_labels(accumulated: list[Manifest], here: Path, label: dict[str, Any]) -> None:
    if label.get("includeSelectors"):
        raise KustomizeError(f"{here}: labels with includeSelectors are not supported (selectors stay fixed)")
    pairs = label.get("pairs", {})
    for manifest in accumulated:
        manifest.obj.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if label.get("includeTemplates") and manifest.kind in WORKLOAD_KINDS:
            template = manifest.obj.setdefault("spec", {}).setdefault("template", {})
            template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def _apply_replicas(accumulated: list[Manifest], here: Path, replica: dict[str, Any]) -> None:
    matches = [m for m in accumulated if m.name == replica["name"] and m.kind in {"Deployment", "StatefulSet"}]
    if not matches:
        raise KustomizeError(f"{here}: replicas for {replica['name']!r}, which no Deployment or StatefulSet is")
    for manifest in matches:
        manifest.obj["spec"]["replicas"] = replica["count"]
        manifest.patched_by.append(here)


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    if obj.get("kind") not in WORKLOAD_KINDS:
        return []
    pod = obj.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """`registry/name:tag@digest` → (name with registry, tag, digest)."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:], digest or None
    return name, None, digest or None


def _retag(image: str, rule: dict[str, Any]) -> str:
    name, tag, digest = split_image(image)
    if name != rule["name"]:
        return image
    name = rule.get("newName", name)
    if "digest" in rule:
        return f"{name}@{rule['digest']}"
    tag = str(rule.get("newTag", tag)) if rule.get("newTag", tag) is not None else None
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _find(accumulated: list[Manifest], obj: dict[str, Any]) -> Manifest | None:
    kind, name = obj.get("kind"), obj.get("metadata", {}).get("name")
    return next((m for m in accumulated if m.kind == kind and m.name == name), None)
