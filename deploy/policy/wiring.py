"""Checks that objects fit together: Services, the ConfigMap and Settings, references between objects."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from declic.kit.config import DEFAULT_PORTS, SERVICES, Settings
from deploy.policy.model import (
    CONFIG_MAP,
    Expectations,
    Finding,
    Rendering,
    containers,
    has_port,
    pod_spec,
    selects,
    verdict,
)


def check_services(rendering: Rendering, _: Expectations) -> list[Finding]:
    """Every Declic service has a Service with a port named grpc; every Service selects a pod and a port."""
    findings = []
    for deployment in rendering.declic_deployments():
        service = rendering.named("Service", deployment.name)
        if service is None:
            findings += verdict("services", deployment, rendering.root, ["no Service of the same name"])
            continue
        names = {p.get("name") for p in service.obj.get("spec", {}).get("ports", [])}
        wanted = {"grpc", "http"} if deployment.name == "dispatch" else {"grpc"}
        missing = sorted(wanted - names)
        findings += verdict("services", service, rendering.root, [f"no port named {n}" for n in missing])
    for service in rendering.of_kind("Service"):
        selector = service.obj.get("spec", {}).get("selector", {})
        pods = [w for w in rendering.workloads() if selects(selector, w)]
        problems = [] if pods else [f"selector {selector} matches no pod template"]
        for port in service.obj.get("spec", {}).get("ports", []):
            target = port.get("targetPort", port.get("port"))
            if pods and isinstance(target, str) and not any(has_port(w, target) for w in pods):
                problems.append(f"targetPort {target} is no container port of the selected pods")
        findings += verdict("service selectors", service, rendering.root, problems)
    return findings


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
    return verdict("configuration", config_map, rendering.root, problems)


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
        findings += verdict("settings names", config_map, rendering.root, settings_problems(declic))
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
        findings += verdict("settings names", workload, rendering.root, problems)
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
        findings += verdict("references", workload, rendering.root, problems)
    for autoscaler in rendering.of_kind("HorizontalPodAutoscaler"):
        target = autoscaler.obj["spec"]["scaleTargetRef"]
        missing = rendering.named(target["kind"], target["name"]) is None
        problems = [f"scales {target['kind']}/{target['name']}, which does not exist"] if missing else []
        findings += verdict("references", autoscaler, rendering.root, problems)
    for budget in rendering.of_kind("PodDisruptionBudget"):
        selector = budget.obj["spec"].get("selector", {}).get("matchLabels", {})
        matched = any(selects(selector, w) for w in rendering.workloads())
        findings += verdict("references", budget, rendering.root, [] if matched else ["selects no pods"])
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
