"""The pressure policy file: loaded, validated (errors name file:line field), versioned by its content.

The version recorded in every decision is the first 12 hex digits of the file's SHA-256: two
replicas reading the same file agree on it, and `declic arbiter explain` shows which policy decided.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError

from declic.pressure.policy import Policy
from declic.scenarios.loader import field_path, line_of


class PolicyError(ValueError):
    """A policy file that does not validate; `problems` are "file:line field: message" lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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
            line = line_of(root, location) if root is not None else 1
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}:{line} {field_path(location) or '(policy)'}: {message}")
        raise PolicyError(problems) from None


def load_policy(path: Path) -> Policy:
    """The policy in the file at `path`; PolicyError (or OSError) when it cannot be used."""
    return parse_policy(path.read_text(encoding="utf-8"), str(path))
