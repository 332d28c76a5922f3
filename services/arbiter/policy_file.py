"""The pressure policy file: loaded, validated (errors name file:line field), versioned, reloaded when it changes.

The version recorded in every decision is the first 12 hex digits of the file's SHA-256: two
replicas reading the same file agree on it, and `declic arbiter explain` shows which policy decided.
A file that changes is re-read on the next decision (its modification time is checked at most once
a second); a file that no longer validates is refused with an error in the log and the last good
policy stays in force.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path

import yaml
from pydantic import ValidationError

from services.arbiter.domain.policy import Policy

log = logging.getLogger("declic.arbiter.policy")


class PolicyError(ValueError):
    """A policy file that does not validate; `problems` are "file:line field: message" lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _line_of(root: yaml.Node | None, location: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the node at `location` (the deepest node that exists on the way)."""
    node, line = root, root.start_mark.line + 1 if root is not None else None
    for step in location:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def parse_policy(text: str, name: str = "<policy>") -> Policy:
    """The policy `text` describes; PolicyError naming file:line and field for every problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise PolicyError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    if not isinstance(data, dict):
        raise PolicyError([f"{name}:1: the policy must be a mapping of fields"])
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    try:
        return Policy.model_validate({**data, "version": version})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
            field = ".".join(str(part) for part in location) or "(policy)"
            problems.append(f"{name}:{_line_of(root, location)} {field}: {error['msg']}")
        raise PolicyError(problems) from None


def load_policy(path: Path) -> Policy:
    """The policy in the file at `path`; PolicyError (or OSError) when it cannot be used."""
    return parse_policy(path.read_text(encoding="utf-8"), str(path))


class PolicySource:
    """The policy in force: a fixed one (tests), or a file re-read when its modification time changes."""

    CHECK_EVERY = 1.0

    def __init__(self, policy: Policy | None = None, path: Path | None = None) -> None:
        if policy is None and path is None:
            raise ValueError("a policy or a policy file is needed")
        self._path = path
        self._policy = policy if policy is not None else load_policy(path)  # type: ignore[arg-type]
        self._mtime = path.stat().st_mtime_ns if path is not None else 0
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def current(self) -> Policy:
        """The policy in force now (re-read first if its file changed)."""
        if self._path is not None and time.monotonic() - self._checked >= self.CHECK_EVERY:
            with self._lock:
                self._checked = time.monotonic()
                self._reload_if_changed(self._path)
        return self._policy

    def _reload_if_changed(self, path: Path) -> None:
        try:
            mtime = path.stat().st_mtime_ns
            if mtime == self._mtime:
                return
            self._mtime = mtime  # a bad file is reported once, not every second
            self._policy = load_policy(path)
            log.info("pressure policy reloaded from %s: version %s", path, self._policy.version)
        except (OSError, PolicyError) as exc:
            log.error("pressure policy %s not reloaded, version %s stays in force: %s", path, self._policy.version,
                      exc)
