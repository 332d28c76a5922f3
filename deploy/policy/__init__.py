"""Our own rules for the rendered manifests: only what no tool knows (checkov checks the rest).

Declic's own containers, Services and their selectors, the configuration
against declic.kit.config.Settings, references between objects, production's
replicas, and the NetworkPolicies against the graph of the code.

Each check takes a Rendering and the target's Expectations and returns
Findings: one passing finding per object checked, or one failing finding per
problem, naming the object and the file that declared it.
"""

from __future__ import annotations

from collections.abc import Callable

from deploy.policy.model import Expectations, Finding, Rendering
from deploy.policy.network import check_network
from deploy.policy.wiring import check_configuration, check_references, check_services, check_setting_names
from deploy.policy.workloads import check_declic_containers, check_probes, check_production

__all__ = ["CHECKS", "Expectations", "Finding", "Rendering"]


CHECKS: list[Callable[[Rendering, Expectations], list[Finding]]] = [
    check_probes,
    check_declic_containers,
    check_services,
    check_configuration,
    check_setting_names,
    check_references,
    check_production,
    check_network,
]
