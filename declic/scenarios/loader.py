"""Loading the catalogue: one YAML file per scenario, validated; an error names file, line and field.

`abandoned-cart.yaml:14 steps[1].wait.duration: "2 hourz" is not a duration`
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from declic.scenarios.schema import Scenario

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "scenarios"
"""The catalogue shipped in the repository."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, where it is."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where} {self.field}: {self.message}" if self.field else f"{where} {self.message}"


@dataclass
class Catalogue:
    """The valid scenarios by id, and the problems of the files that are not."""

    scenarios: dict[str, Scenario] = field(default_factory=dict)
    problems: dict[str, list[Problem]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    """Scenario id → its file name."""


def scenarios_dir() -> Path:
    """DECLIC_SCENARIOS_DIR, else the catalogue shipped in the repository."""
    return Path(os.environ.get("DECLIC_SCENARIOS_DIR") or DEFAULT_DIR)


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Every *.yaml file of `directory`: valid ones become scenarios, the others their problems."""
    catalogue = Catalogue()
    for path in sorted((directory or scenarios_dir()).glob("*.y*ml")):
        scenario, problems = load_file(path)
        if problems:
            catalogue.problems[path.name] = problems
        elif scenario is not None:
            if scenario.id in catalogue.scenarios:
                catalogue.problems[path.name] = [Problem(path.name, 1, "id", f"{scenario.id!r} is also "
                                                         f"{catalogue.files[scenario.id]}'s id")]
                continue
            catalogue.scenarios[scenario.id] = scenario
            catalogue.files[scenario.id] = path.name
    return catalogue


def load_file(path: Path) -> tuple[Scenario | None, list[Problem]]:
    """One scenario file: the scenario, or what is wrong with it."""
    return parse(path.read_text(encoding="utf-8"), path.name, expected_id=path.stem)


def parse(text: str, name: str, expected_id: str | None = None) -> tuple[Scenario | None, list[Problem]]:
    """A scenario from YAML text (`name` is the file's name, for the messages)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        return None, [Problem(name, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict) or node is None:
        return None, [Problem(name, 1, "", "a scenario file is a mapping (id: …, name: …, steps: …)")]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        return None, [_problem(name, node, error) for error in exc.errors()]
    if expected_id and scenario.id != expected_id:
        return None, [Problem(name, line_of(node, ("id",)), "id", f"{scenario.id!r} differs from the file name "
                                                                  f"({expected_id!r})")]
    return scenario, []


def _problem(name: str, node: yaml.Node, error: Any) -> Problem:
    location = tuple(part for part in error["loc"] if not _is_union_tag(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("extra_forbidden",):
        message = "is not a field here (a typo?)"
    elif error["type"] == "missing":
        message = "is required"
    elif error["type"] == "literal_error":
        message = f"{error.get('input')!r} is not one of {message.removeprefix('Input should be ')}"
    return Problem(name, _quoted_line(node, location, message) or line_of(node, location), field_path(location),
                   message)


def _quoted_line(node: yaml.Node, location: tuple, message: str) -> int | None:
    """For an error about a whole list or mapping that quotes one of its values ('reasurance' is not a step id),
    the line of that value."""
    quoted = re.match(r"^'([^']+)'", message)
    if not quoted:
        return None
    for part in location:
        child = _child(node, part)
        if child is None:
            break
        node = child
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode) and current.value == quoted.group(1):
            return current.start_mark.line + 1
        if isinstance(current, yaml.SequenceNode):
            stack.extend(reversed(current.value))
        elif isinstance(current, yaml.MappingNode):
            stack.extend(value for _, value in reversed(current.value))
    return None


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and ("[" in part or part in ("function-before", "function-after"))


def field_path(location: tuple) -> str:
    """('steps', 1, 'wait', 'duration') → steps[1].wait.duration"""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def line_of(node: yaml.Node, location: tuple) -> int:
    """The 1-based line of the deepest node along `location` that exists in the file."""
    for part in location:
        child = _child(node, part)
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _child(node: yaml.Node, part: object) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
