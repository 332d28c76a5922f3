"""The subset of kustomize that deploy/k8s uses, in Python: the fallback where kubectl is absent (deploy.render).

Supported in a kustomization.yaml (kind Kustomization or Component): `resources`
(files or directories), `components`, `patches` (strategic merge from `path`, the
target named by the patch's own kind and name; or inline on a `target` chosen by
kind, name and label selector: a strategic merge or JSON 6902 add/replace/remove
operations), `namespace`, `labels` (without `includeSelectors`), `replicas` and
`images`. Anything else is an error rather than a silent difference from
`kubectl kustomize`; the unit tests compare both renderings for every target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deploy.manifest import WORKLOAD_KINDS, KustomizeError, Manifest, split_image
from deploy.patches import json_operation, strategic_merge

KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "components", "patches", "namespace", "labels",
                        "replicas", "images"}
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                        "CustomResourceDefinition", "PriorityClass"}


def render_in_python(directory: Path) -> list[Manifest]:
    """Build the kustomization in `directory` with this module, like `kubectl kustomize directory`."""
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
        if set(patch) == {"target", "patch"}:
            _apply_targeted_patch(accumulated, here, patch)
        else:
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
        raise KustomizeError(f"{here}: only `patches: - path: <file>` (strategic merge) or "
                             "`- target: … patch: <JSON 6902 operations>` are supported")
    path = (directory / patch["path"]).resolve()
    if not path.is_file():
        raise KustomizeError(f"{here}: patch {patch['path']!r} does not exist")
    for document in load_documents(path):
        target = _find(accumulated, document)
        if target is None:
            ref = f"{document['kind']}/{document['metadata']['name']}"
            raise KustomizeError(f"{path}: patches {ref}, which no resource declares")
        target.obj = strategic_merge(target.obj, document, where=str(path))


def _apply_targeted_patch(accumulated: list[Manifest], here: Path, patch: dict[str, Any]) -> None:
    """An inline patch on every resource the target selects: JSON 6902 operations, or a strategic merge."""
    content = yaml.safe_load(patch["patch"])
    selected = [m for m in accumulated if _targeted(m, patch["target"], here)]
    if not selected:
        raise KustomizeError(f"{here}: the patch target {patch['target']} matches no resource")
    for manifest in selected:
        if isinstance(content, dict):  # the patch's own kind and name give way to the target's
            manifest.obj = strategic_merge(manifest.obj, {k: v for k, v in content.items() if k != "kind"}
                                           | {"metadata": {**content.get("metadata", {}), "name": manifest.name}},
                                           where=str(here))
            continue
        for operation in content if isinstance(content, list) else [None]:
            if not isinstance(operation, dict):
                raise KustomizeError(f"{here}: an inline patch is a strategic merge or a list of JSON 6902 operations")
            json_operation(manifest.obj, operation, f"{here} ({manifest.ref})")


def _targeted(manifest: Manifest, target: dict[str, Any], here: Path) -> bool:
    unknown = sorted(set(target) - {"kind", "name", "labelSelector"})
    if unknown:
        raise KustomizeError(f"{here}: patch targets by {', '.join(unknown)} are not supported")
    labels = manifest.obj.get("metadata", {}).get("labels", {})
    wanted = dict(pair.split("=", 1) for pair in target.get("labelSelector", "").split(",") if pair)
    return (target.get("kind", manifest.kind) == manifest.kind and target.get("name", manifest.name) == manifest.name
            and all(labels.get(key) == value for key, value in wanted.items()))


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


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    if obj.get("kind") not in WORKLOAD_KINDS:
        return []
    pod = obj.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


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
