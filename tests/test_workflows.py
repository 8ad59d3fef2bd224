"""CI workflows are valid and call the same make targets a person uses."""

from __future__ import annotations

import subprocess
import sys

import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def test_workflows_match_the_github_schema():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} == {"pull-request.yml", "release.yml"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _run_lines(name: str) -> list[str]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def test_release_builds_the_full_profile_with_the_readme_command():
    workflow = yaml.safe_load((WORKFLOWS / "release.yml").read_text())
    assert workflow[True]["release"]["types"] == ["published"]  # YAML reads the key `on` as True
    runs = _run_lines("release.yml")
    assert "make site PROFILE=full" in runs
    # nothing special to CI: no direct pipeline or mkdocs calls besides the make target
    assert not any("mkdocs" in run or "-m benchmarks" in run for run in runs)
    readme = (REPO / "README.md").read_text()
    assert "make site" in readme and "PROFILE=full" in readme


def test_pull_requests_build_and_test_like_a_person():
    assert _run_lines("pull-request.yml") == ["make site", "make test"]
    assert (REPO / ".ci/run").read_text().strip().endswith("make test")
