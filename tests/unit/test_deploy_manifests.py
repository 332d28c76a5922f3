"""deploy/k8s renders and passes deploy.check, and deploy.check reports broken manifests by file and object."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from declic.kit.config import SERVICES
from deploy import check
from deploy.checkov import find_checkov, read_report, run_checkov
from deploy.kustomize import render_in_python
from deploy.manifest import KustomizeError, Manifest, split_image
from deploy.patches import strategic_merge
from deploy.policy import Finding, Rendering
from deploy.policy.network import CALLS, OUTSIDE, PUBLIC, may_connect, pod_of
from deploy.render import render, render_with_kubectl

TARGETS = ["base", "overlays/dev", "overlays/production"]


@pytest.fixture
def k8s(tmp_path: Path) -> Path:
    """A scratch copy of deploy/k8s that a test may break."""
    root = tmp_path / "k8s"
    shutil.copytree(check.K8S_ROOT, root)
    return root


def edit(path: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    change(documents)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))


def find(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(doc for doc in documents if doc["kind"] == kind)


def container(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return find(documents, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def failures(root: Path, target: str = "base") -> list[Finding]:
    return check.check_target(root, target).failures


def test_every_target_renders_and_passes_every_check() -> None:
    reports = check.run()
    assert [r.target for r in reports] == [*TARGETS, "repository"]
    assert [(r.target, f) for r in reports for f in r.failures] == []
    schema_checked = {f.subject for f in reports[2].findings if f.check == "api schema"}
    assert {"Deployment/ingest", "HorizontalPodAutoscaler/ingest", "PodDisruptionBudget/recommend",
            "NetworkPolicy/default-deny"} <= schema_checked
    assert {f.subject for f in reports[2].findings if f.check == "network"} == {f"Deployment/{s}" for s in SERVICES}


def test_the_cli_prints_a_table_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["--no-checkov"]) == 0
    out = capsys.readouterr().out
    assert "overlays/production" in out and "api schema" in out and "network" in out and "no problem" in out


def test_a_probe_on_the_wrong_port_is_reported_in_every_target_naming_the_file(
    k8s: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(k8s / "base" / "ingest.yaml", lambda docs: container(docs)["readinessProbe"]["grpc"].update(port=50052))

    reports = check.run(k8s)

    broken = {(r.target, f.check, f.subject, f.problem) for r in reports for f in r.failures}
    problem = "container ingest: readinessProbe is not a grpc probe on port 50051"
    assert broken == {(t, "probes", "Deployment/ingest", problem) for t in TARGETS}
    assert {f.origin for r in reports for f in r.failures} == {"base/ingest.yaml"}
    assert check.main(["--root", str(k8s), "--no-checkov"]) == 1
    out = capsys.readouterr().out
    assert f"Deployment/ingest (base/ingest.yaml): {problem}" in out


def test_an_http_probe_where_a_grpc_probe_belongs_is_reported(k8s: Path) -> None:
    def http_liveness(docs: list[dict[str, Any]]) -> None:
        container(docs)["livenessProbe"] = {"httpGet": {"path": "/", "port": 8080}}

    edit(k8s / "base" / "dispatch.yaml", http_liveness)
    assert [f.problem for f in failures(k8s)] == ["container dispatch: livenessProbe is not a grpc probe on port 50056"]


def test_a_grace_period_shorter_than_the_shutdown_is_reported(k8s: Path) -> None:
    def careless(docs: list[dict[str, Any]]) -> None:
        find(docs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 8

    edit(k8s / "base" / "profile.yaml", careless)
    assert [f.problem for f in failures(k8s)] == [
        "terminationGracePeriodSeconds 8 is not above preStop 3 s + DECLIC_GRACE_PERIOD_SECONDS 5 s",
    ]


def test_a_service_without_its_grpc_port_is_reported(k8s: Path) -> None:
    edit(k8s / "base" / "scenario.yaml", lambda docs: find(docs, "Service")["spec"]["ports"][0].update(name="rpc"))
    assert [(f.check, f.subject, f.problem) for f in failures(k8s)] == [
        ("services", "Service/scenario", "no port named grpc")
    ]


def test_a_service_pointing_at_no_container_port_is_reported(k8s: Path) -> None:
    def retarget(docs: list[dict[str, Any]]) -> None:
        find(docs, "Service")["spec"]["ports"][1]["targetPort"] = "web"

    edit(k8s / "base" / "dispatch.yaml", retarget)
    assert [(f.check, f.subject, f.problem) for f in failures(k8s)] == [
        ("service selectors", "Service/dispatch", "targetPort web is no container port of the selected pods")
    ]


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("DECLIC_REDIS_ULR", "redis://x:6379/0", "DECLIC_REDIS_ULR is not a setting of declic.kit.config.Settings"),
        ("DECLIC_REDIS_URL", "http://redis:6379", "DECLIC_REDIS_URL: Value error, must be a redis://"),
        ("DECLIC_ARBITER_ADDRESS", "arbiter:50051", "DECLIC_ARBITER_ADDRESS is 'arbiter:50051', not 'arbiter:50055'"),
        ("DECLIC_HOST", "127.0.0.1", "DECLIC_HOST is not 0.0.0.0"),
    ],
)
def test_bad_configuration_is_reported(k8s: Path, key: str, value: str, problem: str) -> None:
    edit(k8s / "base" / "config.yaml", lambda docs: docs[0]["data"].update({key: value}))
    problems = [f.problem or "" for f in failures(k8s)]
    assert problems and all(f.subject == "ConfigMap/declic-config" for f in failures(k8s))
    assert any(p.startswith(problem) for p in problems), problems


def test_an_unknown_field_fails_the_api_schema(k8s: Path) -> None:
    edit(k8s / "base" / "recommend.yaml", lambda docs: container(docs).update(readinesProbe={"grpc": {"port": 1}}))
    schema = [f for f in failures(k8s) if f.check == "api schema"]
    assert {f.subject for f in schema} == {"Deployment/recommend"}
    assert all("'readinesProbe' was unexpected" in (f.problem or "") for f in schema)
    assert {(f.problem or "").split(":")[0] for f in schema} == {"Kubernetes 1.29", "Kubernetes 1.37"}


def test_production_wants_two_replicas(k8s: Path) -> None:
    def loosen(docs: list[dict[str, Any]]) -> None:
        docs[0]["replicas"] = [r for r in docs[0]["replicas"] if r["name"] != "arbiter"]

    edit(k8s / "overlays" / "production" / "kustomization.yaml", loosen)
    problems = {(f.subject, f.problem) for f in failures(k8s, "overlays/production")}
    assert problems == {("Deployment/arbiter", "1 replica(s) at least, 2 wanted")}
    assert failures(k8s, "overlays/dev") == []


def test_a_secret_nobody_declares_is_reported_unless_external(k8s: Path) -> None:
    def other_secret(docs: list[dict[str, Any]]) -> None:
        container(docs)["env"][0]["valueFrom"]["secretKeyRef"]["name"] = "declic-db"

    edit(k8s / "base" / "ingest.yaml", other_secret)
    assert [(f.check, f.problem) for f in failures(k8s)] == [("references", "Secret declic-db is referenced but "
                                                                            "not declared")]


def test_a_component_no_overlay_uses_is_reported(k8s: Path) -> None:
    shutil.copytree(k8s / "components" / "pdb", k8s / "components" / "pdb-copy")
    problems = [f for f in check.check_components_used(k8s) if not f.passed]
    assert [(f.subject, f.problem) for f in problems] == [
        ("components/pdb-copy", "no overlay uses it, so nothing checks it")
    ]


@pytest.mark.parametrize("renderer", [render_with_kubectl, render_in_python])
def test_a_patch_of_an_undeclared_object_fails_the_render_naming_the_component_and_object(
    k8s: Path, renderer: Callable[[Path], list[Manifest]]
) -> None:
    if renderer is render_with_kubectl and shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    patch = k8s / "components" / "in-cluster-redis" / "config-patch.yaml"
    edit(patch, lambda docs: docs[0]["metadata"].update(name="declic-settings"))
    with pytest.raises(KustomizeError) as raised:
        renderer(k8s / "overlays" / "dev")
    assert str(patch.parent) in str(raised.value) and "declic-settings" in str(raised.value)


def test_a_failed_render_is_a_finding(k8s: Path) -> None:
    (k8s / "overlays" / "dev" / "auth-secret.yaml").unlink()
    [failure] = failures(k8s, "overlays/dev")
    assert failure.check == "render" and "auth-secret.yaml" in (failure.problem or "")


def test_unsupported_kustomize_fields_are_errors_not_silent_differences(k8s: Path) -> None:
    kustomization = k8s / "base" / "kustomization.yaml"
    edit(kustomization, lambda docs: docs[0].update(configMapGenerator=[{"name": "x", "literals": ["a=b"]}]))
    with pytest.raises(KustomizeError, match="does not support configMapGenerator"):
        render_in_python(k8s / "base")


def test_a_json_patch_of_a_place_that_does_not_exist_is_an_error(k8s: Path) -> None:
    def bad_path(docs: list[dict[str, Any]]) -> None:
        docs[0]["patches"][0]["patch"] = "- op: replace\n  path: /spec/template/spec/containers/3/image\n  value: x\n"

    edit(k8s / "overlays" / "dev" / "kustomization.yaml", bad_path)
    with pytest.raises(KustomizeError, match="replace /spec/template/spec/containers/3/image: no such place"):
        render_in_python(k8s / "overlays" / "dev")


def test_the_dockerfile_must_pin_the_grpcio_tools_of_pyproject_and_ship_the_run_time_data(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('dev = ["grpcio-tools==1.85.1"]\n')
    (tmp_path / "Dockerfile").write_text("ARG GRPCIO_TOOLS_VERSION=1.80.0\nCOPY scenarios /opt/declic/scenarios\n")
    assert [(f.subject, f.problem) for f in check.check_image_recipe(tmp_path) if not f.passed] == [
        ("grpcio-tools", "Dockerfile pins grpcio-tools 1.80.0, pyproject.toml pins 1.85.1"),
        ("scenarios", "the image does not point DECLIC_SCENARIOS_DIR at its scenarios/"),
        ("policies", "the image lacks policies/ (read at run time)"),
    ]
    assert all(f.passed for f in check.check_image_recipe(check.REPO_ROOT))


def test_strategic_merge_merges_named_lists_and_deletes_nulls() -> None:
    original = {"spec": {"containers": [{"name": "a", "image": "x", "env": [{"name": "K", "value": "1"}]},
                                        {"name": "b", "image": "y"}], "args": ["1", "2"], "drop": 1}}
    patch = {"spec": {"containers": [{"name": "a", "env": [{"name": "K", "value": "2"}, {"name": "L", "value": "3"}]}],
                      "args": ["3"], "drop": None}}
    assert strategic_merge(original, patch, where="test") == {
        "spec": {"containers": [{"name": "a", "image": "x", "env": [{"name": "K", "value": "2"},
                                                                     {"name": "L", "value": "3"}]},
                                {"name": "b", "image": "y"}], "args": ["3"]}
    }
    assert original["spec"]["drop"] == 1  # the original is left untouched


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("declic", ("declic", None, None)),
        ("redis:7.4-alpine", ("redis", "7.4-alpine", None)),
        ("registry:5000/team/declic:0.1.0@sha256:ab", ("registry:5000/team/declic", "0.1.0", "sha256:ab")),
        ("registry:5000/team/declic", ("registry:5000/team/declic", None, None)),
    ],
)
def test_split_image(image: str, parts: tuple[str, str | None, str | None]) -> None:
    assert split_image(image) == parts


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with its built-in kustomize) is not installed")
@pytest.mark.parametrize("target", check.targets(check.K8S_ROOT))
def test_the_python_fallback_renders_what_kubectl_kustomize_renders(target: str) -> None:
    """Every target deploy.check renders (a new overlay included): the same objects, each from the same file."""
    theirs = {(m.kind, m.name): (m.obj, m.source) for m in render_with_kubectl(check.K8S_ROOT / target)}
    ours = {(m.kind, m.name): (m.obj, m.source) for m in render_in_python(check.K8S_ROOT / target)}
    assert ours == theirs
    assert all(m.source.is_file() and m.source.is_relative_to(check.K8S_ROOT) for m in render(check.K8S_ROOT / target))


def test_without_kubectl_the_python_renderer_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("deploy.render.shutil.which", lambda name: None)
    monkeypatch.setattr("deploy.render.render_with_kubectl", lambda *args: pytest.fail("kubectl was called"))
    rendered = render(check.K8S_ROOT / "overlays" / "dev")
    assert ("NetworkPolicy", "default-deny") in {(m.kind, m.name) for m in rendered}


def callees_in_the_code(service: str) -> set[str]:
    """The peers whose gRPC stub a service's code builds (`profile_pb2_grpc.ProfileServiceStub(`)."""
    stubs = set()
    for path in (Path(check.REPO_ROOT) / "services" / service).rglob("*.py"):
        stubs |= {name.lower() for name in re.findall(r"\b(\w+)ServiceStub\(", path.read_text())}
    return stubs - {service}


def test_the_calls_the_policies_open_are_the_calls_the_code_makes() -> None:
    assert {s: callees_in_the_code(s) for s in SERVICES} == {s: set(CALLS.get(s, ())) for s in SERVICES}


@pytest.mark.parametrize("target", ["overlays/dev", "overlays/production"])
def test_the_network_policies_open_exactly_the_grpc_graph(target: str) -> None:
    rendering = Rendering(render(check.K8S_ROOT / target), check.K8S_ROOT)
    pods = {m.name: pod_of(m) for m in rendering.declic_deployments()}
    ports = {name: 50051 + index for index, name in enumerate(SERVICES)}
    opened = {(caller, callee) for caller in pods for callee in pods
              if caller != callee and may_connect(rendering, pods[caller], pods[callee], ports[callee])}
    assert opened == {(caller, callee) for caller, callees in CALLS.items() for callee in callees}
    from_outside = {(name, port) for name in pods for port in (ports[name], 8080)
                    if may_connect(rendering, OUTSIDE, pods[name], port)}
    assert from_outside == {("ingest", 50051), ("dispatch", 8080)} and PUBLIC == {"ingest": "grpc", "dispatch": "http"}


def test_a_call_the_policies_do_not_open_is_reported(k8s: Path) -> None:
    def forget_arbiter(docs: list[dict[str, Any]]) -> None:
        scenario = next(d for d in docs if d["metadata"]["name"] == "scenario")
        scenario["spec"]["egress"] = [rule for rule in scenario["spec"]["egress"]
                                      if rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                                      != "arbiter"]

    edit(k8s / "base" / "network-policy.yaml", forget_arbiter)
    assert [(f.check, f.subject, f.problem) for f in failures(k8s)] == [
        ("network", "Deployment/arbiter", "scenario cannot call arbiter on 50055")
    ]


def test_a_port_opened_to_everyone_is_reported(k8s: Path) -> None:
    def open_profile(docs: list[dict[str, Any]]) -> None:
        profile = next(d for d in docs if d["metadata"]["name"] == "profile")
        profile["spec"]["ingress"][0].pop("from")

    edit(k8s / "base" / "network-policy.yaml", open_profile)
    # the other services still cannot call it: their own egress stays closed
    assert [(f.subject, f.problem) for f in failures(k8s)] == [
        ("Deployment/profile", "client systems may reach profile on 50052")
    ]


def test_a_datastore_on_a_port_the_policies_close_is_reported(k8s: Path) -> None:
    def other_port(docs: list[dict[str, Any]]) -> None:
        docs[0]["data"]["DECLIC_REDIS_URL"] = "rediss://managed-redis.invalid:16379/0"

    edit(k8s / "overlays" / "production" / "config-patch.yaml", other_port)
    problems = {(f.check, f.problem) for f in failures(k8s, "overlays/production")}
    assert problems == {("network", "cannot reach Redis at managed-redis.invalid:16379")}
    assert len(failures(k8s, "overlays/production")) == len(SERVICES)


def test_an_in_cluster_datastore_that_refuses_the_services_is_reported(k8s: Path) -> None:
    def refuse(docs: list[dict[str, Any]]) -> None:
        policy = next(d for d in docs if d["kind"] == "NetworkPolicy")
        policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"] = {"app.kubernetes.io/name": "nobody"}

    edit(k8s / "components" / "in-cluster-postgres" / "postgres.yaml", refuse)
    problems = {f.problem for f in failures(k8s, "overlays/dev")}
    assert problems == {"cannot reach PostgreSQL at postgres:5432"}


def test_checkovs_report_becomes_findings_per_target_and_object() -> None:
    deployment = Manifest({"kind": "Deployment", "metadata": {"name": "ingest"}}, check.K8S_ROOT / "base/ingest.yaml")
    config = Manifest({"kind": "ConfigMap", "metadata": {"name": "declic-config"}}, check.K8S_ROOT / "base/config.yaml")
    report = {"check_type": "kubernetes", "results": {
        "failed_checks": [{"check_id": "CKV_K8S_22", "check_name": "Use read-only filesystem",
                           "file_path": "/overlays-dev.yaml", "resource": "Deployment.declic-dev.ingest"}],
        "passed_checks": [{"check_id": "CKV_K8S_8", "check_name": "Liveness", "file_path": "/overlays-dev.yaml",
                           "resource": "Deployment.declic-dev.ingest"}] * 3,
        "skipped_checks": [{"check_id": "CKV_K8S_15", "check_name": "Pull", "file_path": "/overlays-dev.yaml",
                            "resource": "Deployment.declic-dev.ingest"}],
    }}
    findings, summaries = read_report(report, {"overlays-dev.yaml": "overlays/dev"},
                                      {"overlays/dev": [deployment, config]}, check.K8S_ROOT)
    assert [(f.subject, f.origin, f.problem) for f in findings["overlays/dev"]] == [
        ("Deployment/ingest", "base/ingest.yaml", "CKV_K8S_22 Use read-only filesystem"),
        ("ConfigMap/declic-config", "base/config.yaml", None),
    ]
    assert str(summaries["overlays/dev"]) == "passed 3, failed 1, skipped 1"


@pytest.mark.skipif(find_checkov() is None, reason="checkov is not installed: make .venv-tools/bin/checkov")
def test_checkov_runs_on_the_overlays_and_names_the_file_of_what_it_fails(k8s: Path) -> None:
    """`make lint` runs it on the real overlays; here on a copy where one container may write its root filesystem."""
    edit(k8s / "base" / "arbiter.yaml", lambda docs: container(docs)["securityContext"].update(
        readOnlyRootFilesystem=False))
    overlays = ("overlays/dev", "overlays/production")
    findings, summaries = run_checkov({target: render(k8s / target) for target in overlays}, k8s)
    for target in overlays:
        assert [(f.subject, f.origin, f.problem) for f in findings[target] if not f.passed] == [
            ("Deployment/arbiter", "base/arbiter.yaml", "CKV_K8S_22 Use read-only filesystem for containers where "
                                                        "possible")]
        assert summaries[target].failed == 1 and summaries[target].passed > 500
    assert summaries["overlays/dev"].skipped == len(SERVICES)  # the pull policy, skipped by annotation in dev
