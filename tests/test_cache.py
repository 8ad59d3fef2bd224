"""Only what a change touches becomes stale; list says why; bad cache entries are rebuilt."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import cache, results
from benchmarks.experiments import PROFILES, Experiment, Profile, VariantSpec
from benchmarks.machine import machine_card
from benchmarks.results import ExperimentResult
from benchmarks.runner import state
from benchmarks.techniques.onnxruntime import ORT_ALL, PYTORCH_EAGER
from tests.conftest import REPO

GRIDS = {name: ({"batch": 1},) for name in PROFILES}


def stored_for(exp: Experiment, card: dict, directory: Path, profile: Profile = PROFILES["toy"]) -> None:
    inputs = cache.cache_inputs(exp, profile, card)
    results.save(
        ExperimentResult(
            experiment=exp.name,
            status="ok",
            profile=profile.name,
            config=exp.config(profile),
            machine=card,
            cache_key=cache.key_of(inputs),
            cache_inputs=inputs,
        ),
        directory,
    )


@pytest.fixture
def builder_module(tmp_path, monkeypatch):
    """A variant builder module of our own, so the test can edit its source."""
    package = tmp_path / "editable_builders"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = "from benchmarks.engines.pytorch import build_pytorch_eager as build\n"
    (package / "torchy.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return package / "torchy.py"


def test_only_affected_experiments_become_stale(tmp_path, builder_module, monkeypatch):
    card = machine_card()
    custom = VariantSpec("custom", "custom", "自定义", "editable_builders.torchy:build")
    torch_only = Experiment("test/torch-only", "test", "digits-cnn", (PYTORCH_EAGER, custom), GRIDS)
    with_ort = Experiment("test/with-ort", "test", "digits-cnn", (PYTORCH_EAGER, ORT_ALL), GRIDS)
    for exp in (torch_only, with_ort):
        stored_for(exp, card, tmp_path)
        assert state(exp, PROFILES["toy"], card, tmp_path) == ("up-to-date", [])

    # a pipeline source that only one experiment runs
    builder_module.write_text(builder_module.read_text() + "# changed\n")
    status, reasons = state(torch_only, PROFILES["toy"], card, tmp_path)
    assert status == "stale" and any(r.endswith("torchy.py changed") for r in reasons)
    assert state(with_ort, PROFILES["toy"], card, tmp_path)[0] == "up-to-date"

    # a package version that only one experiment uses
    real = cache.package_versions

    def bumped(names):
        versions = real(names)
        if "onnxruntime" in versions:
            versions["onnxruntime"] = "99.0"
        return versions

    monkeypatch.setattr(cache, "package_versions", bumped)
    status, reasons = state(with_ort, PROFILES["toy"], card, tmp_path)
    assert status == "stale" and any(r.startswith("onnxruntime ") and r.endswith("-> 99.0") for r in reasons)
    monkeypatch.setattr(cache, "package_versions", real)

    # a configuration change
    wider = Experiment(
        "test/with-ort",
        "test",
        "digits-cnn",
        (PYTORCH_EAGER, ORT_ALL),
        {n: ({"batch": 2},) for n in PROFILES},
    )
    assert state(wider, PROFILES["toy"], card, tmp_path) == ("stale", ["configuration changed"])
    # another machine
    other = {**card, "machine_id": "elsewhere"}
    assert state(with_ort, PROFILES["toy"], other, tmp_path) == ("stale", ["measured on another machine"])


@pytest.mark.slow
def test_result_is_keyed_on_what_its_workers_loaded(tmp_path, cache_dir, monkeypatch):
    from benchmarks.runner import run_all

    exp = Experiment("test/loaded", "test", "digits-cnn", (PYTORCH_EAGER, ORT_ALL), GRIDS)
    assert "benchmarks/machine.py" not in {str(cache._display(f)) for f in cache.source_files(exp)}
    run_all([exp], PROFILES["toy"], tmp_path, progress=lambda _: None)
    stored, _ = results.load_experiment(exp.name, tmp_path)
    assert stored.status == "ok", stored.reason
    loaded = stored.cache_inputs["loaded"]
    # Modules and packages the experiment does not declare, recorded because its worker had them.
    assert {"benchmarks/engines/pytorch.py", "benchmarks/machine.py"} <= set(loaded["sources"])
    assert {"torch", "numpy", "scikit-learn"} <= set(loaded["packages"])
    assert "benchmarks/machine.py" in stored.cache_inputs["sources"]
    card = machine_card()
    assert state(exp, PROFILES["toy"], card, tmp_path) == ("up-to-date", [])

    # An undeclared module it loaded changes: the result is stale, and list names the file.
    real_digest = cache._digest
    machine_file = REPO / "benchmarks" / "machine.py"
    monkeypatch.setattr(
        cache, "_digest", lambda data: "edited" if data == machine_file.read_bytes() else real_digest(data)
    )
    assert state(exp, PROFILES["toy"], card, tmp_path) == ("stale", ["benchmarks/machine.py changed"])
    monkeypatch.setattr(cache, "_digest", real_digest)

    # So does a package it loaded without declaring it.
    real = cache.package_versions
    monkeypatch.setattr(cache, "package_versions", lambda names: {**real(names), "scikit-learn": "0.0"})
    status, reasons = state(exp, PROFILES["toy"], card, tmp_path)
    assert status == "stale" and any(r.startswith("scikit-learn ") for r in reasons)


def test_corrupt_result_is_rerun_not_trusted(tmp_path):
    card = machine_card()
    exp = Experiment("test/x", "test", "digits-cnn", (PYTORCH_EAGER, ORT_ALL), GRIDS)
    (tmp_path / results.file_name(exp.name)).write_text("{ truncated")
    status, reasons = state(exp, PROFILES["toy"], card, tmp_path)
    assert status == "unreadable" and "not a readable results file" in reasons[0]


def test_corrupt_cached_weights_are_rebuilt(cache_dir):
    from benchmarks.workloads import digits_cnn

    digits_cnn.prepare()
    path = digits_cnn.weights_path(digits_cnn.SETTINGS)
    path.write_bytes(b"not a checkpoint")
    rebuilt = digits_cnn.prepare()
    assert rebuilt["cached"] is False and rebuilt["test_accuracy"] >= 0.95
    assert digits_cnn.prepare()["cached"] is True
    assert not list(path.parent.glob(f".{path.name}.tmp*"))  # no half-written copy left behind


# The CLI with one experiment added whose candidate blocks inside its timed calls while a file
# the test controls exists: Ctrl-C then lands mid-measurement on any machine, fast or slow.
HELD_RUN = """
import sys
from benchmarks import __main__ as cli
from benchmarks.experiments import PROFILES, Experiment, VariantSpec
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER

held = Experiment(
    name="test/held",
    technique="test",
    workload="digits-cnn",
    variants=(PYTORCH_EAGER, VariantSpec("held", "held", "held", "tests.fake_variants:build_held")),
    grids={name: ({"batch": 1},) for name in PROFILES},
)
real = cli.get_experiment
cli.get_experiment = lambda name: held if name == held.name else real(name)
sys.exit(cli.main(sys.argv[1:]))
"""


def test_interrupted_run_keeps_finished_results_and_resumes(tmp_path, toy_results):
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    finished = toy_results / "onnxruntime__digits-cnn.json"
    (results_dir / finished.name).write_bytes(finished.read_bytes())
    hold = tmp_path / "hold"
    hold.touch()
    env = {
        **os.environ,
        "BENCH_RESULTS_DIR": str(results_dir),
        "BENCH_TEST_HOLD_FILE": str(hold),
        "PYTHONUNBUFFERED": "1",
    }
    args = [sys.executable, "-c", HELD_RUN, "run", "--profile", "toy", "onnxruntime/digits-cnn", "test/held"]
    proc = subprocess.Popen(
        args,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while not hold.with_suffix(".inside").exists():  # the held variant is inside a timed call
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the held variant never started its timed calls"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err
    assert (results_dir / finished.name).read_bytes() == finished.read_bytes()
    assert sorted(p.name for p in results_dir.iterdir()) == [finished.name]  # nothing half-written

    hold.unlink()  # the held variant now answers at once
    resumed = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "onnxruntime/digits-cnn: up to date" in resumed.stdout
    assert results.load_experiment("test/held", results_dir)[0].status == "ok"
