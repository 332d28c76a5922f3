"""Checks on each workload's pods: security, resources, probes, the Declic containers, production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from declic.kit.config import SERVICES, Settings
from deploy.kustomize import Manifest, split_image
from deploy.policy.model import (
    DECLIC_IMAGE,
    DISPATCH_HTTP_PORT,
    Expectations,
    Finding,
    Rendering,
    configured_port,
    container_env,
    containers,
    pod_spec,
    verdict,
)

ContainerRule = Callable[[Rendering, Manifest, dict[str, Any]], list[str]]


def _each_container(rendering: Rendering, check: str, rule: ContainerRule, init_too: bool = True) -> list[Finding]:
    """Run `rule` on every container of every workload; one verdict per workload."""
    findings = []
    for workload in rendering.workloads():
        chosen = containers(workload) if init_too else pod_spec(workload).get("containers", [])
        problems = [f"container {c.get('name')}: {problem}" for c in chosen for problem in rule(rendering, workload, c)]
        findings += verdict(check, workload, rendering.root, problems)
    return findings


def _security_problems(_: Rendering, workload: Manifest, container: dict[str, Any]) -> list[str]:
    pod = pod_spec(workload).get("securityContext", {})
    own = container.get("securityContext", {})
    problems = []
    if own.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
        problems.append("runAsNonRoot is not true")
    if own.get("runAsUser", pod.get("runAsUser")) == 0:
        problems.append("runAsUser is 0 (root)")
    if own.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if own.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if "ALL" not in own.get("capabilities", {}).get("drop", []):
        problems.append("capabilities.drop does not include ALL")
    if own.get("seccompProfile", pod.get("seccompProfile", {})).get("type") != "RuntimeDefault":
        problems.append("seccompProfile is not RuntimeDefault")
    return problems


def _resource_problems(_: Rendering, __: Manifest, container: dict[str, Any]) -> list[str]:
    resources = container.get("resources", {})
    return [f"no {bound}.{resource}" for bound in ("requests", "limits") for resource in ("cpu", "memory")
            if resource not in resources.get(bound, {})]


def _probe_problems(rendering: Rendering, workload: Manifest, container: dict[str, Any]) -> list[str]:
    problems = [f"no {probe}" for probe in ("readinessProbe", "livenessProbe") if probe not in container]
    if workload.kind == "Deployment" and workload.name in SERVICES:
        port = configured_port(rendering, container, workload.name)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe in container and container[probe].get("grpc", {}).get("port") != port:
                problems.append(f"{probe} is not a grpc probe on port {port}")
    return problems


def check_pod_security(rendering: Rendering, _: Expectations) -> list[Finding]:
    """Non-root, read-only root filesystem, no privilege escalation, no capabilities, seccomp."""
    return _each_container(rendering, "pod security", _security_problems)


def check_resources(rendering: Rendering, _: Expectations) -> list[Finding]:
    """Every container requests and limits CPU and memory."""
    return _each_container(rendering, "requests/limits", _resource_problems)


def check_probes(rendering: Rendering, _: Expectations) -> list[Finding]:
    """Readiness and liveness everywhere; gRPC health probes on the gRPC port for Declic services."""
    return _each_container(rendering, "probes", _probe_problems, init_too=False)


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
    """Pinned images and enough replicas, where the target asks for them."""
    findings = []
    for workload in rendering.workloads():
        problems = []
        if expectations.pinned_images:
            for container in containers(workload):
                _, tag, digest = split_image(container.get("image", ""))
                if not digest and tag in (None, "latest"):
                    problems.append(f"container {container.get('name')}: image {container.get('image')} is not "
                                    "pinned by tag or digest")
        wanted = expectations.min_replicas.get(workload.name)
        if wanted:
            replicas = workload.obj.get("spec", {}).get("replicas", 1)
            autoscaler = rendering.named("HorizontalPodAutoscaler", workload.name)
            floor = autoscaler.obj["spec"].get("minReplicas", 1) if autoscaler else replicas
            if min(replicas, floor) < wanted:
                problems.append(f"{min(replicas, floor)} replica(s) at least, {wanted} wanted")
        if expectations.pinned_images or wanted:
            findings += verdict("production", workload, rendering.root, problems)
    return findings
