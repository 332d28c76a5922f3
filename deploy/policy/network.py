"""The NetworkPolicies against the graph of the code: who calls whom, and what every service needs to reach.

checkov sees that a pod has a NetworkPolicy; only we know which connections
Declic makes. The rendered policies are evaluated as Kubernetes does (a pod
that a policy of a direction selects accepts only what some such policy
allows, and a connection needs the caller's egress and the callee's ingress),
for the pods and namespaces of one rendering. Ports are matched by number (a
named port in a policy matches nothing here) and an ipBlock by "outside the
cluster" (its CIDR is not read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from deploy.manifest import Manifest
from deploy.policy.model import (
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

# Who calls whom over gRPC: a service calls a peer when its code builds a stub of the peer's service
# (services/scenario/, services/dispatch/). tests/unit/test_deploy_manifests.py holds this map to the stubs the code
# builds.
CALLS: dict[str, tuple[str, ...]] = {"scenario": ("profile", "arbiter", "dispatch"), "dispatch": ("arbiter",)}
# What client systems outside the namespace reach: ingest's gRPC, dispatch's tracking over HTTP.
PUBLIC = {"ingest": "grpc", "dispatch": "http"}
POSTGRES_PORT = 5432


@dataclass(frozen=True)
class Endpoint:
    """One end of a connection: a pod of the rendering, a pod of another namespace, or outside the cluster."""

    pod: dict[str, str] | None = None  # None: outside the cluster
    namespace: dict[str, str] | None = None  # None: the rendering's own namespace


OUTSIDE = Endpoint()
KUBE_DNS = Endpoint(pod={"k8s-app": "kube-dns"}, namespace={"kubernetes.io/metadata.name": "kube-system"})


def pod_of(workload: Manifest) -> Endpoint:
    return Endpoint(pod=workload.obj.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}))


def matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions) against labels; {} matches everything."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if not {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
                "Exists": key in labels, "DoesNotExist": key not in labels}[operator]:
            return False
    return True


def may_connect(rendering: Rendering, source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP") -> bool:
    """Whether the rendering's policies let `source` open a connection to `target` on `port`."""
    return (_allows(rendering, "Egress", source, target, port, protocol)
            and _allows(rendering, "Ingress", target, source, port, protocol))


def _allows(rendering: Rendering, direction: str, subject: Endpoint, peer: Endpoint, port: int, protocol: str) -> bool:
    if subject.pod is None or subject.namespace is not None:
        return True  # not a pod these policies govern
    governing = [p["spec"] for p in (m.obj for m in rendering.of_kind("NetworkPolicy"))
                 if direction in _types(p["spec"]) and matches(p["spec"].get("podSelector"), subject.pod)]
    if not governing:
        return True
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    return any(_port_allowed(rule.get("ports"), port, protocol) and _peer_allowed(rule.get(peers_key), peer)
               for spec in governing for rule in spec.get(key) or [])


def _types(spec: dict[str, Any]) -> list[str]:
    return spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])]


def _port_allowed(ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    return not ports or any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


def _peer_allowed(peers: list[dict[str, Any]] | None, peer: Endpoint) -> bool:
    if not peers:
        return True
    for allowed in peers:
        if "ipBlock" in allowed:
            if peer.pod is None:
                return True
            continue
        if peer.pod is None:
            continue
        if "namespaceSelector" in allowed:
            in_namespace = matches(allowed["namespaceSelector"], peer.namespace or {}) if peer.namespace else False
        else:
            in_namespace = peer.namespace is None
        if in_namespace and matches(allowed.get("podSelector"), peer.pod):
            return True
    return False


def check_network(rendering: Rendering, _: Expectations) -> list[Finding]:
    """Exactly the gRPC graph of CALLS and PUBLIC is open; every service reaches DNS, Redis and PostgreSQL."""
    deployments = {m.name: m for m in rendering.declic_deployments()}
    if not rendering.of_kind("NetworkPolicy"):
        return [Finding("network", "NetworkPolicy", "-", "none: every pod accepts and opens any connection")]
    findings = []
    for deployment in deployments.values():
        problems = _callee_problems(rendering, deployments, deployment)
        problems += _reach_problems(rendering, deployment)
        findings += verdict("network", deployment, rendering.root, problems)
    return findings


def _callee_problems(rendering: Rendering, deployments: dict[str, Manifest], callee: Manifest) -> list[str]:
    problems = []
    port = configured_port(rendering, pod_spec(callee)["containers"][0], callee.name)
    for caller in deployments.values():
        if caller is callee:
            continue
        wanted = callee.name in CALLS.get(caller.name, ())
        if may_connect(rendering, pod_of(caller), pod_of(callee), port) != wanted:
            problems.append(f"{caller.name} {'cannot call' if wanted else 'may call'} {callee.name} on {port}")
    public = {"grpc": port, "http": DISPATCH_HTTP_PORT}
    for port_name, number in public.items():
        if port_name == "http" and callee.name != "dispatch":
            continue
        wanted = PUBLIC.get(callee.name) == port_name
        if may_connect(rendering, OUTSIDE, pod_of(callee), number) != wanted:
            problems.append(f"client systems {'cannot reach' if wanted else 'may reach'} {callee.name} on {number}")
    return problems


def _reach_problems(rendering: Rendering, deployment: Manifest) -> list[str]:
    """DNS, then the Redis and PostgreSQL of the configuration (in-cluster Services resolved to their pods)."""
    source = pod_of(deployment)
    problems = [] if may_connect(rendering, source, KUBE_DNS, 53, "UDP") else ["cannot resolve names (DNS, UDP 53)"]
    config = container_env(rendering, pod_spec(deployment)["containers"][0])
    urls = {"Redis": config.get("DECLIC_REDIS_URL", ""), "PostgreSQL": rendering.secret_value("declic-database", "url")
            or f"postgresql://external:{POSTGRES_PORT}/"}
    for what, url in urls.items():
        parts = urlsplit(url)
        if parts.scheme == "unix":
            continue
        host, port = parts.hostname or "", parts.port or (6379 if what == "Redis" else POSTGRES_PORT)
        target, target_port = _service_target(rendering, host, port)
        if not may_connect(rendering, source, target, target_port):
            problems.append(f"cannot reach {what} at {host}:{port}")
    return problems


def _service_target(rendering: Rendering, host: str, port: int) -> tuple[Endpoint, int]:
    """The pods and container port behind an in-cluster Service name, or the outside world as it is."""
    service = rendering.named("Service", host.split(".")[0])
    if service is None:
        return OUTSIDE, port
    selector = service.obj["spec"].get("selector", {})
    for workload in rendering.workloads():
        labels = workload.obj["spec"]["template"]["metadata"].get("labels", {})
        if selector and all(labels.get(k) == v for k, v in selector.items()):
            for service_port in service.obj["spec"].get("ports", []):
                if service_port.get("port") == port:
                    return pod_of(workload), _container_port(workload, service_port.get("targetPort", port))
    return OUTSIDE, port


def _container_port(workload: Manifest, target: int | str) -> int:
    if isinstance(target, int):
        return target
    return next((p["containerPort"] for c in containers(workload) for p in c.get("ports", [])
                 if p.get("name") == target), 0)

