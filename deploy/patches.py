"""The two kinds of kustomize patch, for the Python renderer: strategic merge and JSON 6902 operations."""

from __future__ import annotations

import copy
from typing import Any

from deploy.manifest import KustomizeError

# patchMergeKey of the lists we may patch (from the Kubernetes API types); other lists are replaced.
# `ports` merge on containerPort in a container and on port in a Service.
LIST_MERGE_KEYS = {"containers": ("name",), "initContainers": ("name",), "volumes": ("name",), "env": ("name",),
                   "volumeMounts": ("mountPath",), "imagePullSecrets": ("name",), "ports": ("containerPort", "port")}


def json_operation(obj: dict[str, Any], operation: dict[str, Any], where: str) -> None:
    """One JSON 6902 add, replace or remove, in place."""
    op, path = operation.get("op"), str(operation.get("path", ""))
    if op not in ("add", "replace", "remove") or not path.startswith("/"):
        raise KustomizeError(f"{where}: only add, replace and remove on an absolute path are supported, not {op}")
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]
    node: Any = obj
    try:
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) and last != "-" else last
        if op == "remove" or (op == "replace" and isinstance(node, dict) and key not in node):
            del node[key]  # a replace of nothing fails, as in kustomize
        if op == "add" and isinstance(node, list):
            node.insert(len(node) if key == "-" else key, copy.deepcopy(operation["value"]))
        elif op != "remove":
            node[key] = copy.deepcopy(operation["value"])
    except (KeyError, IndexError, ValueError, TypeError):
        raise KustomizeError(f"{where}: {op} {path}: no such place in the object") from None


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
