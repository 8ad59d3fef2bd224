"""Shared fixtures: one toy-size run of every experiment, and a site built from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Debian's chromium (scripts/install_chromium.sh) and the flags every browser test starts it with.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fast tier (``make test-fast``) is every test that needs neither the toy run of every
    experiment, nor a browser, nor a model trained or exported for real (marked ``slow``)."""
    for item in items:
        needs_run = "toy_results" in getattr(item, "fixturenames", ())
        if needs_run or item.get_closest_marker("browser") or item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.full)


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 1800
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trained weights for the tests, apart from the user's own cache."""
    path = tmp_path_factory.mktemp("cache")
    os.environ["BENCH_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def toy_results(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """Every declared experiment, run end to end at toy size through the CLI.

    ``BENCH_TEST_TOY_RESULTS=DIR`` reuses an earlier toy run while working on one test (results
    there must match the code: run ``python -m benchmarks run --profile toy`` into it first)."""
    reuse = os.environ.get("BENCH_TEST_TOY_RESULTS")
    if reuse:
        return Path(reuse)
    directory = tmp_path_factory.mktemp("results")
    proc = run_cli("run", "--profile", "toy", env={"BENCH_RESULTS_DIR": str(directory)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return directory


def load_results(directory: Path, names: list[str]) -> dict:
    """Stored results by experiment name; each must exist and have run ok."""
    from benchmarks import results

    found = {}
    for name in names:
        stored, _ = results.load_experiment(name, directory)
        assert stored is not None, f"{name}: no result in {directory}"
        assert stored.status == "ok", f"{name}: {stored.status}: {stored.reason}"
        found[name] = stored
    return found


def build_site(
    results: Path, destination: Path, config: Path = REPO / "mkdocs.yml", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "-f", str(config), "-d", str(destination)],
        cwd=REPO,
        env={
            **os.environ,
            "BENCH_RESULTS_DIR": str(results),
            "BENCH_ARCHIVE_DIR": str(destination.parent / "no-archive"),
            "NO_MKDOCS_2_WARNING": "1",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory, toy_results: Path) -> Path:
    site = tmp_path_factory.mktemp("site")
    proc = build_site(toy_results, site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site
