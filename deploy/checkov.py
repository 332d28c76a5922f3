"""checkov, the field's Kubernetes checks, on the rendered overlays (configuration: deploy/.checkov.yaml).

checkov lives in its own virtual environment (`make lint` builds .venv-tools/ from
deploy/checkov-requirements.txt): its pins clash with ours (it wants packaging < 24,
pytest 9 wants >= 24). deploy.check writes each overlay's rendering to a scratch
directory, runs checkov once on all of them, and turns its JSON report into
Findings naming the file that declared each failing object.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploy.manifest import Manifest
from deploy.policy.model import Finding

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "deploy" / ".checkov.yaml"
TOOLS_CHECKOV = REPO_ROOT / ".venv-tools" / "bin" / "checkov"
INSTALL_HINT = "make .venv-tools/bin/checkov"


@dataclass(frozen=True)
class Summary:
    """checkov's counts for one rendered target."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return f"passed {self.passed}, failed {self.failed}, skipped {self.skipped}"


def skipped_everywhere() -> list[str]:
    """The checks deploy/.checkov.yaml skips for every target (checkov does not run them, so does not count them)."""
    return [str(check) for check in (yaml.safe_load(CONFIG.read_text()) or {}).get("skip-check", [])]


def find_checkov() -> str | None:
    """$DECLIC_CHECKOV, else the one `make lint` installs, else one on PATH."""
    explicit = os.environ.get("DECLIC_CHECKOV")
    if explicit:
        return explicit
    return str(TOOLS_CHECKOV) if TOOLS_CHECKOV.is_file() else shutil.which("checkov")


def run_checkov(
    renderings: dict[str, list[Manifest]], root: Path, checkov: str | None = None
) -> tuple[dict[str, list[Finding]], dict[str, Summary]]:
    """checkov on each target's manifests: one finding per object checked, and checkov's counts per target."""
    checkov = checkov or find_checkov()
    if checkov is None:
        problem = f"checkov is not installed: {INSTALL_HINT} (or set DECLIC_CHECKOV)"
        return {target: [Finding("checkov", "checkov", str(CONFIG.name), problem)] for target in renderings}, {}
    files = {_file_name(target): target for target in renderings}
    with tempfile.TemporaryDirectory(prefix="declic-checkov-") as scratch:
        for name, target in files.items():
            documents = [manifest.obj for manifest in renderings[target]]
            (Path(scratch) / name).write_text(yaml.safe_dump_all(documents, sort_keys=False))
        ran = subprocess.run([checkov, "--directory", scratch, "--config-file", str(CONFIG), "--output", "json"],
                             capture_output=True, text=True, check=False)
    try:
        report = json.loads(ran.stdout)
    except json.JSONDecodeError:
        problem = f"checkov gave no report (exit {ran.returncode}): {ran.stderr.strip()[-500:]}"
        return {target: [Finding("checkov", "checkov", str(CONFIG.name), problem)] for target in renderings}, {}
    return read_report(report, files, renderings, root)


def read_report(
    report: dict[str, Any] | list[Any], files: dict[str, str], renderings: dict[str, list[Manifest]], root: Path
) -> tuple[dict[str, list[Finding]], dict[str, Summary]]:
    """checkov's JSON report (one framework: a dict; several: a list) as Findings and counts per target."""
    results: dict[str, list[dict[str, Any]]] = {}
    for section in report if isinstance(report, list) else [report]:
        for outcome, checks in section.get("results", {}).items():
            results.setdefault(outcome, []).extend(checks)
    counts: dict[str, Counter[str]] = {target: Counter() for target in renderings}
    failed: dict[tuple[str, str], list[str]] = {}
    for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
        for check in results.get(outcome, []):
            target = files.get(Path(check["file_path"]).name)
            if target is None:
                continue
            counts[target][outcome] += 1
            if outcome == "failed_checks":
                failed.setdefault((target, _ref(check["resource"])), []).append(
                    f"{check['check_id']} {check['check_name']}")
    findings: dict[str, list[Finding]] = {}
    for target, manifests in renderings.items():
        findings[target] = []
        for manifest in manifests:
            problems = failed.get((target, manifest.ref), [None])
            findings[target] += [Finding("checkov", manifest.ref, manifest.origin(root), p) for p in problems]
    summaries = {target: Summary(c["passed_checks"], c["failed_checks"], c["skipped_checks"])
                 for target, c in counts.items()}
    return findings, summaries


def _file_name(target: str) -> str:
    return target.replace("/", "-") + ".yaml"


def _ref(resource: str) -> str:
    """checkov's `Kind.namespace.name` (or `Kind.name`) as `Kind/name`."""
    kind, _, rest = resource.partition(".")
    return f"{kind}/{rest.rpartition('.')[2] if '.' in rest else rest}"
