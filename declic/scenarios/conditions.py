"""Conditions in CEL (Common Expression Language), compiled once when a scenario loads.

A condition sees `event` (the event that started or reached the journey), `profile` (RFM, lifecycle,
appetences, promo_sensitivity, contactability, attributes, timezone…), `journey` (state, variables,
occurrences) and `now`. The `common-expression-language` package was measured against `cel-python`
(BENCHMARKS.md, Scenario): about 5x faster to compile and 8x faster to evaluate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import cel

from declic.scenarios.samples import SAMPLE_ACTIVATION

ROOTS = ("event", "profile", "journey", "now")
# Maps whose keys are the marketer's (free attributes, appetence dimensions, journey variables): a key
# missing from the sample is not a typo.
_OPEN_MAPS = ("attributes", "appetences", "variables", "context", "appetence_scores")
_PATH = re.compile(r"\s*(event|profile|journey)((?:\s*\.\s*[A-Za-z_]\w*)+)\s*")


def bind(activation: Mapping[str, Any]) -> cel.Context:
    """The variables converted once for many conditions: evaluating against a bound context is ~30 times
    cheaper than against a dict, which is converted again at every evaluation."""
    context = cel.Context()
    for name, value in activation.items():
        context.add_variable(name, value)
    return context


class ConditionError(ValueError):
    """An expression that does not compile, or names something that does not exist."""


class Condition:
    """One compiled CEL expression; `source` is the text the marketer wrote."""

    __slots__ = ("source", "_program", "path")

    def __init__(self, source: str) -> None:
        self.source = source
        plain = _PATH.fullmatch(source)
        self.path = (plain.group(1), *re.split(r"\s*\.\s*", plain.group(2).strip(" .")) ) if plain else None
        """The fields a plain path (`event.order.order_id`) names, root first; None for any other expression."""
        try:
            self._program = cel.compile(source)
        except (ValueError, RuntimeError) as exc:
            raise ConditionError(_first_line(exc)) from exc
        self._check_fields()
        self._check_names()

    def evaluate(self, activation: Mapping[str, Any] | cel.Context) -> Any:
        """The expression's value (`activation`: the variables, or a context `bind` made of them); raises
        ConditionError when a field it needs is missing or of the wrong type."""
        try:
            return self._program.execute(activation if isinstance(activation, cel.Context) else dict(activation))
        except KeyError as exc:
            raise ConditionError(f"no field {exc.args[0]!r}") from exc
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ConditionError(_first_line(exc)) from exc

    def text_at_path(self, variables: Mapping[str, Any]) -> str | None:
        """A plain path's value when it is text, read from the variables without CEL (converting them costs CEL
        ~20 µs an event); None otherwise — not a plain path, a field missing, another type: then CEL answers."""
        if self.path is None:
            return None
        value: Any = variables
        for name in self.path:
            if not isinstance(value, dict) or name not in value:
                return None
            value = value[name]
        return value if isinstance(value, str) else None

    def holds(self, activation: Mapping[str, Any] | cel.Context) -> tuple[bool, str]:
        """Whether the condition is true, and why not when it is not (a missing field counts as false)."""
        try:
            value = self.evaluate(activation)
        except ConditionError as exc:
            return False, f"{self.source}: {exc}"
        if not isinstance(value, bool):
            return False, f"{self.source}: gives {value!r}, not true or false"
        return value, "" if value else f"{self.source} is false"

    def _check_fields(self) -> None:
        """Every `profile.x`, `journey.x` and `event.x` names a field that exists (even in a branch not taken)."""
        for root, name in re.findall(r"\b(profile|journey|event)\s*\.\s*([A-Za-z_]\w*)", self.source):
            if name not in SAMPLE_ACTIVATION[root]:
                raise ConditionError(f"{root} has no field {name!r}")

    def _check_names(self) -> None:
        """Run once on a sample of every variable: an unknown variable or field is a load error."""
        try:
            self._program.execute(dict(SAMPLE_ACTIVATION))
        except RuntimeError as exc:
            raise ConditionError(_first_line(exc)) from exc
        except KeyError as exc:
            key = str(exc.args[0])
            if not any(re.search(rf"\b{name}\s*\.\s*{re.escape(key)}\b", self.source) for name in _OPEN_MAPS):
                raise ConditionError(f"no field {key!r} (see docs: the fields of event, profile and journey)") from exc
        except (TypeError, ValueError):
            pass  # a type question that depends on real values: judged when it runs


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return re.sub(r"^Failed to parse expression '.*': ERROR: <input>:", "at ", first)
