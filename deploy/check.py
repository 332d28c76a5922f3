"""`python -m deploy.check`: render every kustomize target of deploy/k8s and check it, offline.

For each target (base and every overlay) it renders the manifests with
kustomize (deploy.kustomize: `kubectl kustomize`, or its Python fallback),
validates each object against the Kubernetes API schema (kubernetes-validate
ships the schemas: no network, no cluster), runs our own rules (deploy.policy:
only what no tool knows), and runs checkov on every overlay (deploy.checkov,
configured in deploy/.checkov.yaml). The base is not checked by checkov: it is
not deployable alone (no namespace, an untagged image); the overlays are what
one applies. It also checks that every component is used by an overlay and that
the Dockerfile pins the grpcio-tools of pyproject.toml. Exits 1 naming the file
and object of every failure.

    python -m deploy.check                  # the table, exit status for `make lint`
    python -m deploy.check --no-checkov     # without checkov (the schema and our own rules)
    python -m deploy.check --print overlays/dev   # the rendered YAML of one target
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from deploy.checkov import Summary, run_checkov, skipped_everywhere
from deploy.manifest import KustomizeError, Manifest
from deploy.policy import CHECKS, Expectations, Finding, Rendering
from deploy.render import render

REPO_ROOT = Path(__file__).resolve().parents[1]
K8S_ROOT = REPO_ROOT / "deploy" / "k8s"
# The oldest Kubernetes we support (grpc probes are GA since 1.27) and the newest schema bundled.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
REPLICATED = ("ingest", "profile", "scenario", "arbiter", "dispatch")
EXPECTATIONS = {
    "overlays/production": Expectations(min_replicas=dict.fromkeys(REPLICATED, 2)),
}


@dataclass
class TargetReport:
    """All findings for one rendered target."""

    target: str
    findings: list[Finding]
    manifests: list[Manifest] = field(default_factory=list)
    checkov: Summary | None = None

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.passed]


def targets(root: Path) -> list[str]:
    """base, then every overlay, as paths relative to `root`."""
    overlays = sorted(p.parent for p in (root / "overlays").glob("*/kustomization.yaml"))
    return ["base", *(str(p.relative_to(root)) for p in overlays)]


def check_target(root: Path, target: str) -> TargetReport:
    """Render one target and run the schema and every policy check on it."""
    try:
        manifests = render(root / target)
    except KustomizeError as exc:
        return TargetReport(target, [Finding("render", target, target, str(exc))])
    rendering = Rendering(manifests, root)
    findings = [Finding("render", target, target)]
    findings += check_schema(rendering)
    expectations = EXPECTATIONS.get(target, Expectations())
    for check in CHECKS:
        findings += check(rendering, expectations)
    return TargetReport(target, findings, manifests)


def check_schema(rendering: Rendering) -> list[Finding]:
    """Each object against the Kubernetes API schema, strict: unknown fields are errors."""
    if importlib.util.find_spec("kubernetes_validate") is None:
        return [Finding("api schema", "kubernetes-validate", "pyproject.toml",
                        "the kubernetes-validate package is missing: .venv/bin/pip install -e '.[dev]'")]
    findings = []
    for manifest in rendering.manifests:
        document = json.dumps(manifest.obj, sort_keys=True)
        problems = [p for version in KUBERNETES_VERSIONS if (p := schema_problem(document, version))]
        origin = manifest.origin(rendering.root)
        findings += [Finding("api schema", manifest.ref, origin, p) for p in problems] or [
            Finding("api schema", manifest.ref, origin)
        ]
    return findings


@functools.lru_cache(maxsize=4096)
def schema_problem(document: str, version: str) -> str | None:
    """What the schema of `version` says against one object (JSON text, so the answer can be cached)."""
    import kubernetes_validate

    try:
        kubernetes_validate.validate(json.loads(document), version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(part) for part in exc.path) or "(top)"
        return f"Kubernetes {version[:-2]}: {where}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError as exc:
        return f"Kubernetes {version[:-2]}: {exc.message}"
    return None


def check_components_used(root: Path) -> list[Finding]:
    """Every component is pulled in by an overlay, so some target renders and checks it."""
    used: set[Path] = set()
    for kustomization in (root / "overlays").glob("*/kustomization.yaml"):
        entries = (yaml.safe_load(kustomization.read_text()) or {}).get("components", [])
        used |= {(kustomization.parent / entry).resolve() for entry in entries}
    findings = []
    for component in sorted(p.parent for p in (root / "components").glob("*/kustomization.yaml")):
        name = str(component.relative_to(root))
        problem = None if component.resolve() in used else "no overlay uses it, so nothing checks it"
        findings.append(Finding("component used", name, name, problem))
    return findings


RUNTIME_DATA = {"scenarios": "DECLIC_SCENARIOS_DIR", "policies": "DECLIC_ARBITER_POLICY_FILE"}
"""Files of the repository the services read at run time, and the setting that names them: the installed wheel
holds code only, so the image copies them and points the setting there."""


def check_image_recipe(repo_root: Path) -> list[Finding]:
    """The Dockerfile generates the stubs with the grpcio-tools that pyproject.toml pins, and ships the data the
    services read at run time."""
    dockerfile = (repo_root / "Dockerfile").read_text() if (repo_root / "Dockerfile").is_file() else ""
    if not dockerfile:
        return [Finding("image recipe", "Dockerfile", "Dockerfile", "missing")]
    pins = {
        "grpcio-tools": (repo_root / "pyproject.toml", r'"grpcio-tools==([^"]+)"', r"GRPCIO_TOOLS_VERSION=(\S+)"),
    }
    findings = []
    for package, (source, source_pattern, docker_pattern) in pins.items():
        wanted = re.search(source_pattern, source.read_text()) if source.is_file() else None
        found = re.search(docker_pattern, dockerfile)
        problem = None
        if wanted is None or found is None:
            problem = f"cannot find the {package} pin in {source.name} or in the Dockerfile"
        elif wanted.group(1) != found.group(1):
            problem = f"Dockerfile pins {package} {found.group(1)}, {source.name} pins {wanted.group(1)}"
        findings.append(Finding("image recipe", package, "Dockerfile", problem))
    for directory, variable in RUNTIME_DATA.items():
        problem = None
        if not re.search(rf"^COPY {directory} ", dockerfile, re.M):
            problem = f"the image lacks {directory}/ (read at run time)"
        elif f"{variable}=" not in dockerfile:
            problem = f"the image does not point {variable} at its {directory}/"
        findings.append(Finding("image recipe", directory, "Dockerfile", problem))
    return findings


def run(root: Path = K8S_ROOT, repo_root: Path = REPO_ROOT, checkov: bool = False) -> list[TargetReport]:
    """Every check of every target (checkov on the overlays if asked), plus the repository-wide ones."""
    reports = [check_target(root, target) for target in targets(root)]
    if checkov:
        deployable = {r.target: r.manifests for r in reports if r.target.startswith("overlays/") and r.manifests}
        findings, summaries = run_checkov(deployable, root)
        for report in reports:
            report.findings += findings.get(report.target, [])
            report.checkov = summaries.get(report.target)
    reports.append(TargetReport("repository", check_components_used(root) + check_image_recipe(repo_root)))
    return reports


def print_reports(reports: list[TargetReport], console: Console) -> None:
    table = Table(title="Kubernetes manifests (deploy/k8s)")
    for column in ("target", "check", "objects", "failed", "result"):
        table.add_column(column, justify="right" if column in ("objects", "failed") else "left")
    for report in reports:
        checks: dict[str, list[Finding]] = {}
        for finding in report.findings:
            checks.setdefault(finding.check, []).append(finding)
        for check, findings in checks.items():
            subjects = {f.subject for f in findings}
            failed = {f.subject for f in findings if not f.passed}
            result = "[red]FAIL[/red]" if failed else "[green]ok[/green]"
            table.add_row(report.target, check, str(len(subjects)), str(len(failed)), result)
        table.add_section()
    console.print(table)
    for report in reports:
        if report.checkov is not None:
            console.print(f"checkov on {report.target}: {report.checkov}", highlight=False)
    if any(report.checkov is not None for report in reports):
        console.print(f"checkov does not run, on any target (deploy/.checkov.yaml): {', '.join(skipped_everywhere())}",
                      highlight=False)
    for report in reports:
        for failure in report.failures:
            console.print(f"[red]✗[/red] {report.target} · {failure.check} · {failure.subject} "
                          f"({failure.origin}): {failure.problem}", highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.check", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=K8S_ROOT, help="the deploy/k8s directory")
    parser.add_argument("--print", dest="print_target", metavar="TARGET",
                        help="print the rendered YAML of one target (e.g. overlays/dev) and exit")
    parser.add_argument("--no-checkov", action="store_true", help="skip checkov (the schema and our own rules only)")
    args = parser.parse_args(argv)
    if args.print_target:
        try:
            manifests = render(args.root / args.print_target)
        except KustomizeError as exc:
            print(f"deploy.check: {exc}", file=sys.stderr)
            return 1
        print(yaml.safe_dump_all([m.obj for m in manifests], sort_keys=False), end="")
        return 0
    console = Console()
    reports = run(args.root, checkov=not args.no_checkov)
    print_reports(reports, console)
    failures = sum(len(r.failures) for r in reports)
    checked = sum(len(r.findings) for r in reports)
    if failures:
        console.print(f"deploy.check: {failures} problem(s) found in {checked} findings; see the lines above.")
        return 1
    console.print(f"deploy.check: {len(reports) - 1} targets rendered, {checked} findings, no problem.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
