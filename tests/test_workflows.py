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


def _load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _run_lines(name: str) -> list[str]:
    workflow = _load(name)
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def _uses(job: dict, action: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(action + "@")]


MAKE_TARGETS = {
    line.split(":")[0]
    for line in (REPO / "Makefile").read_text().splitlines()
    if line and not line.startswith(("\t", "#", " ", ".")) and ":" in line and "=" not in line.split(":")[0]
}


def test_every_run_step_is_a_make_target_a_person_can_run():
    """No ad-hoc python, pipeline or mkdocs calls: each run step is `make TARGET ...` (the
    release's `gh release upload` aside, which needs GitHub itself)."""
    for name in ("release.yml", "pull-request.yml"):
        for run in _run_lines(name):
            assert "python" not in run and "mkdocs" not in run and "-m benchmarks" not in run, run
            if run.startswith("gh release upload"):
                continue
            assert run.startswith("make "), f"{name}: {run!r} is not a make target"
            assert run.split()[1] in MAKE_TARGETS, f"{name}: make {run.split()[1]} is not in the Makefile"


def test_release_runs_sharded_on_both_runner_types_then_merges_bundles_and_publishes():
    workflow = _load("release.yml")
    assert workflow[True]["release"]["types"] == ["published"]  # YAML reads the key `on` as True
    jobs = workflow["jobs"]
    shard = jobs["shard"]
    matrix = shard["strategy"]["matrix"]
    assert set(matrix["runner"]) == {"ubuntu-latest", "ubuntu-24.04-arm"}
    assert shard["runs-on"] == "${{ matrix.runner }}"
    count = len(matrix["shard"])
    assert count >= 2 and matrix["shard"] == list(range(1, count + 1))
    runs = [s["run"] for s in shard["steps"] if "run" in s]
    assert f"make shard PROFILE=full SHARD=${{{{ matrix.shard }}}}/{count}" in runs
    assert any(r.startswith("make install TORCH_INDEX=") for r in runs)
    upload = _uses(shard, "actions/upload-artifact")
    assert upload and upload[0]["with"]["path"] == "shards/" and upload[0]["if"] == "${{ !cancelled() }}"

    merge = jobs["merge"]
    assert merge["needs"] == "shard"
    assert {e["runner"] for e in merge["strategy"]["matrix"]["include"]} == set(matrix["runner"])
    merge_runs = [s["run"] for s in merge["steps"] if "run" in s]
    assert "make merge" in merge_runs
    assert any(r.startswith("make bundle BUNDLE=") for r in merge_runs)
    download = _uses(merge, "actions/download-artifact")[0]["with"]
    assert download["pattern"] == "shard-${{ runner.arch }}-*" and download["path"] == "shards/"

    publish = jobs["publish"]
    assert publish["needs"] == "merge"
    publish_runs = [s["run"] for s in publish["steps"] if "run" in s]
    order = [
        next(i for i, r in enumerate(publish_runs) if r.startswith(t))
        for t in ("make import-bundles", "make archive", "make build", "gh release upload")
    ]
    assert order == sorted(order), publish_runs
    assert _uses(publish, "actions/download-artifact")[0]["with"]["name"] == "merged-X64"
    assert _uses(publish, "actions/upload-pages-artifact")
    assert _uses(jobs["deploy"], "actions/deploy-pages") and jobs["deploy"]["needs"] == "publish"
    # the reference bundle keeps the name earlier releases' results carry, so the releases page
    # (scripts/fetch_release_archive.sh downloads results-*.tar.gz) keeps finding it
    names = {e["runner"]: e["bundle"] for e in merge["strategy"]["matrix"]["include"]}
    assert names["ubuntu-latest"] == "results" and names["ubuntu-24.04-arm"] != "results"
    fetch = (REPO / "scripts" / "fetch_release_archive.sh").read_text()
    assert '"results-$tag.tar.gz"' in fetch
    assert "-m benchmarks archive" in fetch and "tar " not in fetch  # checked, never untarred by hand


def test_pull_requests_run_make_test_once_with_caches_and_cancel_superseded_runs():
    runs = _run_lines("pull-request.yml")
    assert "make site" not in runs and runs.count("make test") == 1
    assert runs[-1] == "make test" and runs[:-1] == [
        "make install TORCH_INDEX=https://download.pytorch.org/whl/cpu"
    ]
    workflow = _load("pull-request.yml")
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert "pull_request.number" in workflow["concurrency"]["group"]
    (job,) = workflow["jobs"].values()
    setup = _uses(job, "actions/setup-python")[0]["with"]
    assert setup["cache"] == "pip" and setup["cache-dependency-path"] == "requirements.txt"
    # make test builds every model into a fresh cache (tests/conftest.py), so a restored .cache/
    # would cost time and change nothing
    assert not _uses(job, "actions/cache")
    assert (REPO / ".ci/run").read_text().strip().endswith("make test")


def test_torch_comes_from_the_cpu_index_on_every_runner():
    for name in ("release.yml", "pull-request.yml"):
        workflow = _load(name)
        text = (WORKFLOWS / name).read_text()
        assert "https://download.pytorch.org/whl/cpu" in text
        for job in workflow["jobs"].values():
            runs = [s["run"] for s in job.get("steps", []) if "run" in s]
            if any(r.startswith("make ") and not r.startswith("make archive") for r in runs):
                assert runs[0].startswith("make install TORCH_INDEX="), (name, runs)


def test_the_install_checks_hashes_and_the_lock_has_them():
    makefile = (REPO / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements.txt" in makefile
    lock = (REPO / "requirements.txt").read_text()
    pins = [line for line in lock.splitlines() if line[:1].isalnum()]
    assert len(pins) > 100
    blocks = lock.split("\n")
    for i, line in enumerate(blocks):
        if line[:1].isalnum():
            assert line.endswith("\\") and blocks[i + 1].strip().startswith("--hash=sha256:"), line
    assert "x86-64" in lock and "aarch64" in lock  # it states the platforms it was resolved for
    # every direct dependency is pinned at the version requirements.in names
    for line in (REPO / "requirements.in").read_text().splitlines():
        if line[:1].isalnum():
            spec = line.split(";")[0].strip()
            assert any(p.split(" ;")[0].split(" \\")[0].lower() == spec.lower() for p in pins), spec
