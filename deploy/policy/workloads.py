"""Checks on the Declic workloads that no tool knows: gRPC probes on the configured port, the containers, replicas.

checkov checks the rest of every pod (security context, resources, probes present, image tags).
"""

from __future__ import annotations

from typing import Any

from declic.kit.config import SERVICES, Settings
from deploy.manifest import Manifest, split_image
from deploy.policy.model import (
    DECLIC_IMAGE,
    DISPATCH_HTTP_PORT,
    Expectations,
    Finding,
    Rendering,
    configured_port,
    container_env,
    pod_spec,
    verdict,
)


def _probe_problems(rendering: Rendering, deployment: Manifest, container: dict[str, Any]) -> list[str]:
    port = configured_port(rendering, container, deployment.name)
    probes = ("startupProbe", "readinessProbe", "livenessProbe")
    return [f"{probe} is not a grpc probe on port {port}" for probe in probes
            if probe in container and container[probe].get("grpc", {}).get("port") != port]


def check_probes(rendering: Rendering, _: Expectations) -> list[Finding]:
    """The Declic services' probes ask the gRPC health service on the port the service listens on."""
    findings = []
    for deployment in rendering.declic_deployments():
        problems = [f"container {c.get('name')}: {problem}" for c in pod_spec(deployment).get("containers", [])
                    for problem in _probe_problems(rendering, deployment, c)]
        findings += verdict("probes", deployment, rendering.root, problems)
    return findings


def check_declic_containers(rendering: Rendering, _: Expectations) -> list[Finding]:
    """Each service runs from the one image, on its port, with a writable /tmp and a long enough grace."""
    findings = []
    deployments = {m.name: m for m in rendering.declic_deployments()}
    for service in SERVICES:
        if service not in deployments:
            findings.append(Finding("declic containers", f"Deployment/{service}", "-", "no such Deployment"))
    for name, deployment in deployments.items():
        spec = pod_spec(deployment)
        problems = []
        matching = [c for c in spec.get("containers", []) if c.get("name") == name]
        if not matching:
            findings += verdict("declic containers", deployment, rendering.root, [f"no container named {name}"])
            continue
        container = matching[0]
        if container.get("command") != ["python", "-m", f"services.{name}"]:
            problems.append(f"command is {container.get('command')}, not python -m services.{name}")
        image_name = split_image(container.get("image", ""))[0]
        if image_name.rsplit("/", 1)[-1] != DECLIC_IMAGE:
            problems.append(f"image {container.get('image')} is not the Declic image")
        ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
        port = configured_port(rendering, container, name)
        if ports.get("grpc") != port:
            problems.append(f"no container port named grpc = {port}")
        if name == "dispatch" and ports.get("http") != DISPATCH_HTTP_PORT:
            problems.append(f"no container port named http = {DISPATCH_HTTP_PORT} (tracking)")
        problems += _tmp_problems(spec, container)
        problems += _grace_problems(rendering, spec, container)
        findings += verdict("declic containers", deployment, rendering.root, problems)
    return findings


def _tmp_problems(spec: dict[str, Any], container: dict[str, Any]) -> list[str]:
    empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    if any(m.get("mountPath") == "/tmp" and m.get("name") in empty_dirs for m in container.get("volumeMounts", [])):
        return []
    return ["/tmp is not an emptyDir (the root filesystem is read-only)"]


def _grace_problems(rendering: Rendering, spec: dict[str, Any], container: dict[str, Any]) -> list[str]:
    env = container_env(rendering, container)
    grace = float(env.get("DECLIC_GRACE_PERIOD_SECONDS", Settings.model_fields["grace_period_seconds"].default))
    command = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    pre_stop = float(command[1]) if len(command) == 2 and command[0] == "sleep" else 0.0
    termination = spec.get("terminationGracePeriodSeconds", 30)
    if termination <= grace + pre_stop:
        return [f"terminationGracePeriodSeconds {termination} is not above preStop {pre_stop:g} s "
                f"+ DECLIC_GRACE_PERIOD_SECONDS {grace:g} s"]
    return []


def check_production(rendering: Rendering, expectations: Expectations) -> list[Finding]:
    """Enough replicas (or an autoscaler's floor), where the target asks for them."""
    findings = []
    for workload in rendering.workloads():
        wanted = expectations.min_replicas.get(workload.name)
        if not wanted:
            continue
        replicas = workload.obj.get("spec", {}).get("replicas", 1)
        autoscaler = rendering.named("HorizontalPodAutoscaler", workload.name)
        floor = autoscaler.obj["spec"].get("minReplicas", 1) if autoscaler else replicas
        at_least = min(replicas, floor)
        problems = [f"{at_least} replica(s) at least, {wanted} wanted"] if at_least < wanted else []
        findings += verdict("production", workload, rendering.root, problems)
    return findings
