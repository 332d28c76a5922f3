"""The pressure policy the domain applies: its schema lives in `declic.pressure.policy` (the CLI validates files
with it too); this module names it for the domain."""

from declic.pressure.policy import (
    CHANNELS,
    Cap,
    ControlGroup,
    CoolOffs,
    LoserFate,
    Policy,
    PriorityRules,
    QuietHours,
    ScenarioRules,
    Window,
    simple_policy,
)

__all__ = ["CHANNELS", "Cap", "ControlGroup", "CoolOffs", "LoserFate", "Policy", "PriorityRules", "QuietHours",
           "ScenarioRules", "Window", "simple_policy"]
