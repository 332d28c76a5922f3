"""Our own rules for the rendered manifests, beyond what the Kubernetes API schema says.

Each check returns Findings: one passing finding per object checked, or one
failing finding per problem, naming the object and the file that declared it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from declic.kit.config import DEFAULT_PORTS, SERVICES, Settings
from deploy.kustomize import WORKLOAD_KINDS, Manifest, split_image

DECLIC_IMAGE = "declic"
CONFIG_MAP = "declic-config"
DISPATCH_HTTP_PORT = 8080


@dataclass(frozen=True)
class Finding:
    """The outcome of one check on one object: `problem` is None when it passed."""

    check: str
    subject: str
    origin: str
    problem: str | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Expectations:
    """What a rendered target must additionally satisfy (production is stricter)."""

    pinned_images: bool = False
    min_replicas: dict[str, int] = field(default_factory=dict)
    # Secrets the operator creates by hand (docs/deploy.md), so absent from the rendering.
    external_secrets: frozenset[str] = frozenset({"declic-database"})


class Rendering:
    """A rendered target with look-ups the checks share."""

    def __init__(self, manifests: list[Manifest], root: Path) -> None:
        self.manifests = manifests
        self.root = root

    def of_kind(self, *kinds: str) -> list[Manifest]:
        return [m for m in self.manifests if m.kind in kinds]

    def named(self, kind: str, name: str) -> Manifest | None:
        return next((m for m in self.manifests if m.kind == kind and m.name == name), None)

    def workloads(self) -> list[Manifest]:
        return self.of_kind(*WORKLOAD_KINDS)

    def declic_deployments(self) -> list[Manifest]:
        return [m for m in self.of_kind("Deployment") if m.name in SERVICES]

    def config_data(self, names: Iterable[str]) -> dict[str, str]:
        data: dict[str, str] = {}
        for name in names:
            config_map = self.named("ConfigMap", name)
            if config_map is not None:
                data.update({k: str(v) for k, v in (config_map.obj.get("data") or {}).items()})
        return data

    def secret_value(self, name: str, key: str) -> str | None:
        secret = self.named("Secret", name)
        if secret is None:
            return None
        value = (secret.obj.get("stringData") or {}).get(key)
        return None if value is None else str(value)


def pod_spec(manifest: Manifest) -> dict[str, Any]:
    return manifest.obj.get("spec", {}).get("template", {}).get("spec", {})


def containers(manifest: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(manifest)
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def container_env(rendering: Rendering, container: dict[str, Any]) -> dict[str, str]:
    """The literal environment a container sees: its ConfigMaps, then its own `env` values."""
    maps = [src["configMapRef"]["name"] for src in container.get("envFrom", []) if "configMapRef" in src]
    env = rendering.config_data(maps)
    env.update({var["name"]: str(var["value"]) for var in container.get("env", []) if "value" in var})
    return env


def _verdict(check: str, manifest: Manifest, root: Path, problems: list[str]) -> list[Finding]:
    origin = manifest.origin(root)
    if not problems:
        return [Finding(check, manifest.ref, origin)]
    return [Finding(check, manifest.ref, origin, problem) for problem in problems]


ContainerRule = Callable[[Rendering, Manifest, dict[str, Any]], list[str]]


def _each_container(rendering: Rendering, check: str, rule: ContainerRule, init_too: bool = True) -> list[Finding]:
    """Run `rule` on every container of every workload; one verdict per workload."""
    findings = []
    for workload in rendering.workloads():
        chosen = containers(workload) if init_too else pod_spec(workload).get("containers", [])
        problems = [f"container {c.get('name')}: {problem}" for c in chosen for problem in rule(rendering, workload, c)]
        findings += _verdict(check, workload, rendering.root, problems)
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


def configured_port(rendering: Rendering, container: dict[str, Any], service: str) -> int:
    """The port the service listens on: DECLIC_<SERVICE>_PORT, else the default."""
    value = container_env(rendering, container).get(f"DECLIC_{service.upper()}_PORT")
    return int(value) if value and value.isdigit() else DEFAULT_PORTS[service]


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
            findings += _verdict("declic containers", deployment, rendering.root, [f"no container named {name}"])
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
        findings += _verdict("declic containers", deployment, rendering.root, problems)
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


def check_services(rendering: Rendering, _: Expectations) -> list[Finding]:
    """Every Declic service has a Service with a port named grpc; every Service selects a pod and a port."""
    findings = []
    for deployment in rendering.declic_deployments():
        service = rendering.named("Service", deployment.name)
        if service is None:
            findings += _verdict("services", deployment, rendering.root, ["no Service of the same name"])
            continue
        names = {p.get("name") for p in service.obj.get("spec", {}).get("ports", [])}
        wanted = {"grpc", "http"} if deployment.name == "dispatch" else {"grpc"}
        missing = sorted(wanted - names)
        findings += _verdict("services", service, rendering.root, [f"no port named {n}" for n in missing])
    for service in rendering.of_kind("Service"):
        selector = service.obj.get("spec", {}).get("selector", {})
        pods = [w for w in rendering.workloads() if _selects(selector, w)]
        problems = [] if pods else [f"selector {selector} matches no pod template"]
        for port in service.obj.get("spec", {}).get("ports", []):
            target = port.get("targetPort", port.get("port"))
            if pods and isinstance(target, str) and not any(_has_port(w, target) for w in pods):
                problems.append(f"targetPort {target} is no container port of the selected pods")
        findings += _verdict("service selectors", service, rendering.root, problems)
    return findings


def _selects(selector: dict[str, str], workload: Manifest) -> bool:
    labels = workload.obj.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _has_port(workload: Manifest, port_name: str) -> bool:
    return any(p.get("name") == port_name for c in containers(workload) for p in c.get("ports", []))


def check_configuration(rendering: Rendering, _: Expectations) -> list[Finding]:
    """The ConfigMap tells each service where its peers are, and Settings accepts every value."""
    config_map = rendering.named("ConfigMap", CONFIG_MAP)
    if config_map is None:
        return [Finding("configuration", f"ConfigMap/{CONFIG_MAP}", "-", "missing")]
    data = rendering.config_data([CONFIG_MAP])
    problems = []
    if data.get("DECLIC_HOST") != "0.0.0.0":
        problems.append("DECLIC_HOST is not 0.0.0.0 (the servers would not be reachable from other pods)")
    for service in SERVICES:
        port = data.get(f"DECLIC_{service.upper()}_PORT", str(DEFAULT_PORTS[service]))
        key = f"DECLIC_{service.upper()}_ADDRESS"
        if data.get(key) != f"{service}:{port}":
            problems.append(f"{key} is {data.get(key)!r}, not '{service}:{port}'")
    problems += settings_problems(data)
    return _verdict("configuration", config_map, rendering.root, problems)


def settings_problems(variables: dict[str, str]) -> list[str]:
    """What declic.kit.config.Settings says of these DECLIC_* values (unknown names included)."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, value in variables.items():
        field_name = name.removeprefix("DECLIC_").lower()
        if not name.startswith("DECLIC_") or field_name not in Settings.model_fields:
            problems.append(f"{name} is not a setting of declic.kit.config.Settings")
        else:
            values[field_name] = value
    try:
        Settings(**values)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(f"DECLIC_{str(error['loc'][0]).upper()}: {error['msg']}")
    return problems


def check_setting_names(rendering: Rendering, _: Expectations) -> list[Finding]:
    """Every DECLIC_* variable a manifest sets exists in Settings; literal and trial-secret values are valid."""
    findings = []
    for config_map in rendering.of_kind("ConfigMap"):
        declic = {k: str(v) for k, v in (config_map.obj.get("data") or {}).items() if k.startswith("DECLIC_")}
        findings += _verdict("settings names", config_map, rendering.root, settings_problems(declic))
    for workload in rendering.workloads():
        variables = {}
        for container in containers(workload):
            for var in container.get("env", []):
                if not var["name"].startswith("DECLIC_"):
                    continue
                secret = var.get("valueFrom", {}).get("secretKeyRef", {})
                value = var.get("value") or rendering.secret_value(secret.get("name", ""), secret.get("key", ""))
                variables[var["name"]] = value
        problems = settings_problems({k: v for k, v in variables.items() if v is not None})
        problems += [f"{k} is not a setting of declic.kit.config.Settings" for k, v in variables.items()
                     if v is None and k.removeprefix("DECLIC_").lower() not in Settings.model_fields]
        findings += _verdict("settings names", workload, rendering.root, problems)
    return findings


def check_references(rendering: Rendering, expectations: Expectations) -> list[Finding]:
    """ServiceAccounts, ConfigMaps, Secrets, autoscaler targets and budgets point at objects that exist."""
    findings = []
    for workload in rendering.workloads():
        spec = pod_spec(workload)
        problems = []
        account = spec.get("serviceAccountName")
        if account and rendering.named("ServiceAccount", account) is None:
            problems.append(f"serviceAccountName {account} has no ServiceAccount")
        for kind, name in _referenced(spec):
            missing = rendering.named(kind, name) is None
            if missing and not (kind == "Secret" and name in expectations.external_secrets):
                problems.append(f"{kind} {name} is referenced but not declared")
        findings += _verdict("references", workload, rendering.root, problems)
    for autoscaler in rendering.of_kind("HorizontalPodAutoscaler"):
        target = autoscaler.obj["spec"]["scaleTargetRef"]
        missing = rendering.named(target["kind"], target["name"]) is None
        problems = [f"scales {target['kind']}/{target['name']}, which does not exist"] if missing else []
        findings += _verdict("references", autoscaler, rendering.root, problems)
    for budget in rendering.of_kind("PodDisruptionBudget"):
        selector = budget.obj["spec"].get("selector", {}).get("matchLabels", {})
        matched = any(_selects(selector, w) for w in rendering.workloads())
        findings += _verdict("references", budget, rendering.root, [] if matched else ["selects no pods"])
    return findings


def _referenced(spec: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                found.append(("ConfigMap", source["configMapRef"]["name"]))
            if "secretRef" in source:
                found.append(("Secret", source["secretRef"]["name"]))
        for var in container.get("env", []):
            value_from = var.get("valueFrom", {})
            if "configMapKeyRef" in value_from:
                found.append(("ConfigMap", value_from["configMapKeyRef"]["name"]))
            if "secretKeyRef" in value_from:
                found.append(("Secret", value_from["secretKeyRef"]["name"]))
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            found.append(("ConfigMap", volume["configMap"]["name"]))
        if "secret" in volume:
            found.append(("Secret", volume["secret"]["secretName"]))
    return found


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
            findings += _verdict("production", workload, rendering.root, problems)
    return findings


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
