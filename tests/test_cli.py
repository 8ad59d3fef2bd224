"""Bad input gets a clear message and a non-zero exit; earlier results survive."""

from __future__ import annotations

import shutil

from benchmarks import results
from benchmarks.experiments import PROFILES
from tests.conftest import run_cli


def test_toy_run_of_every_declared_experiment(toy_results):
    from benchmarks.experiments import all_experiments

    for name, exp in all_experiments().items():
        stored, failure = results.load_experiment(name, toy_results)
        assert stored is not None and failure is None, name
        if exp.requires and stored.status == "skipped":  # this machine lacks what it needs
            assert stored.reason and not stored.points, name
            continue
        assert stored.status == "ok", name
        assert len(stored.points) == len(exp.points(PROFILES["toy"]))
        for point in stored.points:
            for variant in exp.variants:
                entry = point["variants"][variant.name]
                assert entry["latency"]["p50"] > 0 and entry["latency"]["values"]
                assert ("speedup" in entry) == (variant is not exp.baseline)
        for variant in exp.variants:
            assert stored.variants[variant.name]["quality"], f"{name}/{variant.name} has no quality metric"
        assert {"cpu", "isa", "logical_cores", "memory_gib", "packages", "commit", "date"} <= set(
            stored.machine
        )
        if "onnxruntime" in stored.variants:
            assert stored.one_time_costs["onnxruntime"]["export_s"] > 0


def test_minilm_onnx_keeps_fidelity(toy_results):
    stored, _ = results.load_experiment("onnxruntime/minilm", toy_results)
    quality = stored.variants["onnxruntime"]["quality"]
    assert quality["cosine_mean"] > 0.9999 and quality["nn_top1_agreement"] == 1.0


def test_list_and_show(toy_results):
    listed = run_cli("list", "--profile", "toy", env={"BENCH_RESULTS_DIR": str(toy_results)})
    assert listed.returncode == 0
    assert "onnxruntime/minilm           minilm       up-to-date" in listed.stdout
    # the same results are stale for another profile, and list says why
    assert (
        "stale: profile toy -> default" in run_cli("list", env={"BENCH_RESULTS_DIR": str(toy_results)}).stdout
    )
    shown = run_cli("show", "onnxruntime/digits-cnn", env={"BENCH_RESULTS_DIR": str(toy_results)})
    assert shown.returncode == 0 and '"status": "ok"' in shown.stdout


def test_unknown_experiment(tmp_path):
    proc = run_cli("run", "onnxruntime/nope", env={"BENCH_RESULTS_DIR": str(tmp_path)})
    assert proc.returncode == 2
    assert "unknown experiment 'onnxruntime/nope'" in proc.stderr and "onnxruntime/minilm" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_profile(tmp_path):
    proc = run_cli("run", "--profile", "huge", env={"BENCH_RESULTS_DIR": str(tmp_path)})
    assert proc.returncode == 2 and "unknown profile 'huge'" in proc.stderr and "toy" in proc.stderr


def test_corrupt_results_file(tmp_path, toy_results):
    shutil.copy(toy_results / "onnxruntime__minilm.json", tmp_path)
    corrupt = tmp_path / "onnxruntime__digits-cnn.json"
    corrupt.write_text('{"schema_version": 1, "status": "ok"')
    proc = run_cli("show", "onnxruntime/digits-cnn", env={"BENCH_RESULTS_DIR": str(tmp_path)})
    assert proc.returncode == 2 and "not a readable results file" in proc.stderr
    assert corrupt.read_text() == '{"schema_version": 1, "status": "ok"'
    listed = run_cli("list", "--profile", "toy", env={"BENCH_RESULTS_DIR": str(tmp_path)})
    assert "digits-cnn   unreadable: " in listed.stdout and "minilm       up-to-date" in listed.stdout


def test_tampered_model_fails_run_and_keeps_earlier_result(tmp_path, toy_results, cache_dir):
    good = toy_results / "onnxruntime__minilm.json"
    shutil.copy(good, tmp_path)
    before = (tmp_path / good.name).read_text()
    tampered = tmp_path / "model"
    tampered.mkdir()
    (tampered / "model.safetensors").write_bytes(b"not the published weights")
    proc = run_cli(
        "run",
        "onnxruntime/minilm",
        "--profile",
        "toy",
        "--force",
        env={"BENCH_RESULTS_DIR": str(tmp_path), "BENCH_MINILM_DIR": str(tampered)},
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "refusing to run: sha256" in proc.stdout and "failed experiments" in proc.stderr
    assert (tmp_path / good.name).read_text() == before
    stored, failure = results.load_experiment("onnxruntime/minilm", tmp_path)
    assert stored.status == "ok" and "sha256" in failure.reason
