"""deploy/k8s renders and passes deploy.check, and deploy.check reports broken manifests by file and object."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import check
from deploy.kustomize import KustomizeError, render, split_image, strategic_merge
from deploy.policy import Finding

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
    assert {"Deployment/ingest", "HorizontalPodAutoscaler/ingest", "PodDisruptionBudget/recommend"} <= schema_checked


def test_the_cli_prints_a_table_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main([]) == 0
    out = capsys.readouterr().out
    assert "overlays/production" in out and "api schema" in out and "no problem" in out


def test_a_missing_readiness_probe_is_reported_in_every_target_naming_the_file(
    k8s: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(k8s / "base" / "ingest.yaml", lambda docs: container(docs).pop("readinessProbe"))

    reports = check.run(k8s)

    broken = {(r.target, f.check, f.subject, f.problem) for r in reports for f in r.failures}
    assert broken == {(t, "probes", "Deployment/ingest", "container ingest: no readinessProbe") for t in TARGETS}
    # production's replica count also touches it, and the origin says so
    assert {f.origin for r in reports for f in r.failures} == {
        "base/ingest.yaml", "base/ingest.yaml (patched by overlays/production/kustomization.yaml)"
    }
    assert check.main(["--root", str(k8s)]) == 1
    out = capsys.readouterr().out
    assert "Deployment/ingest (base/ingest.yaml): container ingest: no readinessProbe" in out


def test_an_http_probe_where_a_grpc_probe_belongs_is_reported(k8s: Path) -> None:
    def http_liveness(docs: list[dict[str, Any]]) -> None:
        container(docs)["livenessProbe"] = {"httpGet": {"path": "/", "port": 8080}}

    edit(k8s / "base" / "dispatch.yaml", http_liveness)
    assert [f.problem for f in failures(k8s)] == ["container dispatch: livenessProbe is not a grpc probe on port 50056"]


def test_root_user_and_writable_root_filesystem_are_reported(k8s: Path) -> None:
    def loosen(docs: list[dict[str, Any]]) -> None:
        find(docs, "Deployment")["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = 0
        context = container(docs)["securityContext"]
        context["readOnlyRootFilesystem"] = False
        context["capabilities"] = {"drop": ["NET_RAW"]}

    edit(k8s / "base" / "arbiter.yaml", loosen)
    assert {(f.check, f.subject, f.problem) for f in failures(k8s)} == {
        ("pod security", "Deployment/arbiter", "container arbiter: runAsUser is 0 (root)"),
        ("pod security", "Deployment/arbiter", "container arbiter: readOnlyRootFilesystem is not true"),
        ("pod security", "Deployment/arbiter", "container arbiter: capabilities.drop does not include ALL"),
    }


def test_missing_limits_and_a_short_grace_period_are_reported(k8s: Path) -> None:
    def careless(docs: list[dict[str, Any]]) -> None:
        container(docs)["resources"].pop("limits")
        find(docs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 8

    edit(k8s / "base" / "profile.yaml", careless)
    assert sorted(f.problem or "" for f in failures(k8s)) == [
        "container profile: no limits.cpu",
        "container profile: no limits.memory",
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


def test_production_wants_pinned_images_and_two_replicas(k8s: Path) -> None:
    def loosen(docs: list[dict[str, Any]]) -> None:
        docs[0]["images"][0]["newTag"] = "latest"
        docs[0]["replicas"] = [r for r in docs[0]["replicas"] if r["name"] != "arbiter"]

    edit(k8s / "overlays" / "production" / "kustomization.yaml", loosen)
    problems = {(f.subject, f.problem) for f in failures(k8s, "overlays/production")}
    assert ("Deployment/arbiter", "1 replica(s) at least, 2 wanted") in problems
    unpinned = {subject for subject, problem in problems if "is not pinned" in (problem or "")}
    assert unpinned == {f"Deployment/{name}" for name in ("ingest", "profile", "scenario", "recommend", "arbiter",
                                                            "dispatch")}
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


def test_a_patch_of_an_undeclared_object_names_the_patch_file(k8s: Path) -> None:
    patch = k8s / "components" / "in-cluster-redis" / "config-patch.yaml"
    edit(patch, lambda docs: docs[0]["metadata"].update(name="declic-settings"))
    [failure] = failures(k8s, "overlays/dev")
    assert failure.check == "render"
    assert str(patch) in (failure.problem or "") and "ConfigMap/declic-settings" in (failure.problem or "")


def test_unsupported_kustomize_fields_are_errors_not_silent_differences(k8s: Path) -> None:
    kustomization = k8s / "base" / "kustomization.yaml"
    edit(kustomization, lambda docs: docs[0].update(configMapGenerator=[{"name": "x", "literals": ["a=b"]}]))
    with pytest.raises(KustomizeError, match="does not support configMapGenerator"):
        render(k8s / "base")


def test_the_dockerfile_must_pin_the_grpcio_tools_of_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('dev = ["grpcio-tools==1.85.1"]\n')
    (tmp_path / "Dockerfile").write_text("ARG GRPCIO_TOOLS_VERSION=1.80.0\n")
    assert [(f.subject, f.problem) for f in check.check_image_recipe(tmp_path) if not f.passed] == [
        ("grpcio-tools", "Dockerfile pins grpcio-tools 1.80.0, pyproject.toml pins 1.85.1")
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
@pytest.mark.parametrize("target", TARGETS)
def test_our_renderer_agrees_with_kubectl_kustomize(target: str) -> None:
    directory = check.K8S_ROOT / target
    built = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=True)
    theirs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(built.stdout) if o}
    ours = {(m.kind, m.name): m.obj for m in render(directory)}
    assert ours == theirs
