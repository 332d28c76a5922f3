"""Our own rules for the rendered manifests, beyond what the Kubernetes API schema says.

Each check takes a Rendering and the target's Expectations and returns
Findings: one passing finding per object checked, or one failing finding per
problem, naming the object and the file that declared it.
"""

from __future__ import annotations

from collections.abc import Callable

from deploy.policy.model import Expectations, Finding, Rendering
from deploy.policy.wiring import check_configuration, check_references, check_services, check_setting_names
from deploy.policy.workloads import (
    check_declic_containers,
    check_pod_security,
    check_probes,
    check_production,
    check_resources,
)

__all__ = ["CHECKS", "Expectations", "Finding", "Rendering"]


CHECKS: list[Callable[[Rendering, Expectations], list[Finding]]] = [
    check_pod_security,
    check_resources,
    check_probes,
    check_declic_containers,
    check_services,
    check_configuration,
    check_setting_names,
    check_references,
    check_production,
]
