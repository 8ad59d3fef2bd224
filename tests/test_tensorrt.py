"""TensorRT runs only where an NVIDIA GPU and TensorRT exist; elsewhere it is skipped with the reason."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from benchmarks import results
from benchmarks.claims import tensorrt as rules
from benchmarks.results import ExperimentResult
from benchmarks.techniques import tensorrt
from tests.conftest import REPO, run_cli

EXPERIMENT = "tensorrt/resnet50"


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """Pretend hardware: set ``gpu`` and ``trt`` to choose what this machine has."""
    real_find_spec = importlib.util.find_spec
    state = {"gpu": False, "trt": False}
    device = tmp_path / "nvidia0"

    def which(name: str) -> str | None:
        return "/usr/bin/nvidia-smi" if name == "nvidia-smi" and state["gpu"] else None

    def find_spec(name: str, *args):
        if name == "tensorrt":
            return importlib.machinery.ModuleSpec("tensorrt", None) if state["trt"] else None
        return real_find_spec(name, *args)

    def set_state(gpu: bool, trt: bool) -> None:
        state.update(gpu=gpu, trt=trt)
        if gpu:
            device.touch()
        else:
            device.unlink(missing_ok=True)

    monkeypatch.setattr(tensorrt, "GPU_DEVICE", device)
    monkeypatch.setattr(tensorrt.shutil, "which", which)
    monkeypatch.setattr(tensorrt.importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(tensorrt, "_torch_cuda_problem", lambda: None)
    return set_state


def test_requirements_name_what_is_missing(machine):
    machine(gpu=False, trt=False)
    reason = tensorrt.missing_requirements()
    assert reason is not None and "no NVIDIA GPU" in reason and "tensorrt" in reason

    machine(gpu=False, trt=True)
    reason = tensorrt.missing_requirements()
    assert reason is not None and "no NVIDIA GPU" in reason and "package is not installed" not in reason

    machine(gpu=True, trt=False)
    reason = tensorrt.missing_requirements()
    assert reason is not None and "NVIDIA GPU" not in reason and "pip install tensorrt" in reason

    machine(gpu=True, trt=True)
    assert tensorrt.missing_requirements() is None


def test_a_driver_without_a_gpu_is_no_gpu(monkeypatch, tmp_path):
    fake_smi = tmp_path / "nvidia-smi"
    fake_smi.write_text("#!/bin/sh\necho 'No devices were found'\nexit 6\n")
    fake_smi.chmod(0o755)
    monkeypatch.setattr(tensorrt, "GPU_DEVICE", tmp_path / "absent")
    monkeypatch.setattr(tensorrt.shutil, "which", lambda name: str(fake_smi))
    assert "nvidia-smi -L lists none" in (tensorrt._gpu_problem() or "")


@pytest.mark.parametrize(
    ("returncode", "stdout", "expected"),
    [(0, "2.13.0+cpu False\n", "cannot use the GPU"), (0, "2.13.0 True\n", None), (1, "", "could not ask")],
)
def test_pytorch_must_see_the_gpu(monkeypatch, returncode, stdout, expected):
    answer = subprocess.CompletedProcess([], returncode, stdout=stdout, stderr="ImportError: no torch")
    monkeypatch.setattr(tensorrt.subprocess, "run", lambda *args, **kwargs: answer)
    reason = tensorrt._torch_cuda_problem()
    assert reason is None if expected is None else expected in reason


def test_the_real_pytorch_probe_answers():
    reason = tensorrt._torch_cuda_problem()
    assert reason is None or "cannot use the GPU" in reason


def test_checking_requirements_imports_no_engine():
    code = (
        "import sys; from benchmarks.techniques import tensorrt as t; t.missing_requirements(); "
        "print(sorted(m for m in ('torch', 'tensorrt', 'onnxruntime') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_cli_records_the_skip_with_its_reason(tmp_path, cache_dir):
    reason = tensorrt.missing_requirements()
    env = {"BENCH_RESULTS_DIR": str(tmp_path)}
    proc = run_cli("run", EXPERIMENT, "--profile", "toy", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stored = json.loads((tmp_path / results.file_name(EXPERIMENT)).read_text())
    listing = run_cli("list", "--profile", "toy", env=env)
    assert listing.returncode == 0, listing.stderr
    line = next(row for row in listing.stdout.splitlines() if row.startswith(EXPERIMENT))
    if reason is None:  # a machine with a GPU and TensorRT: the real pipeline must have run
        assert stored["status"] == "ok", stored.get("reason")
        assert "up-to-date" in line
        return
    assert stored["status"] == "skipped"
    assert stored["reason"] == reason and "GPU" in stored["reason"]
    assert stored["points"] == [] and not stored["variants"]
    assert "skipped" in line and reason in line

    from benchmarks.report import Renderer

    page = Renderer(directory=tmp_path).render("<!-- bench:table tensorrt/resnet50 -->", "en")[0]
    assert "Skipped on this machine" in page and "GPU" in page


def _result(fp32: float, fp16: float, fp16_cosine: float, batch: int = 128) -> ExperimentResult:
    def entry(value: float) -> dict:
        return {"latency": {"p50": 1.0}, "speedup": {"median": value, "ci_low": value, "ci_high": value}}

    def fidelity(cosine: float) -> dict:
        return {"quality": {"cosine_mean": cosine, "top1_agreement": 1.0}, "info": {"device": "GPU"}}

    return ExperimentResult(
        experiment=EXPERIMENT,
        status="ok",
        profile="default",
        config={"workload": "resnet50"},
        machine={},
        cache_key="",
        variants={
            "pytorch-cuda": fidelity(1.0),
            "tensorrt-fp32": fidelity(1.0),
            "tensorrt-fp16": fidelity(fp16_cosine),
        },
        points=[
            {
                "params": {"batch": b},
                "variants": {
                    "pytorch-cuda": {"latency": {"p50": 1.0}},
                    "tensorrt-fp32": entry(f),
                    "tensorrt-fp16": entry(h),
                },
            }
            for b, f, h in ((1, 0.5, 0.5), (batch, fp32, fp16))
        ],
    )


@pytest.mark.parametrize(
    ("fp32", "fp16", "cosine", "outcome"),
    [
        (1.8, 5.0, 0.999, "holds"),
        (1.8, 1.9, 0.999, "partly"),
        (1.0, 5.0, 0.5, "does-not-hold"),  # fast, but FP16 misses the fidelity bar
        (1.2, 5.0, 0.5, "partly"),
        (1.0, 1.05, 0.999, "does-not-hold"),
    ],
)
def test_t2_rule_reads_the_largest_batch(fp32, fp16, cosine, outcome):
    finding = rules.judge_t2({EXPERIMENT: _result(fp32, fp16, cosine)})
    assert finding.outcome == outcome
    assert "batch 128" in finding.evidence and f"{fp16:.2f}×" in finding.evidence_zh


def test_t2_verdict_is_not_measurable_when_skipped(tmp_path):
    reason = "no NVIDIA GPU on this machine (test)"
    results.save(ExperimentResult(EXPERIMENT, "skipped", "toy", {}, {}, "", reason=reason), tmp_path)
    from benchmarks.report import Renderer

    box = Renderer(directory=tmp_path).render("<!-- bench:verdict T2 -->", "en")[0]
    assert "not measurable here" in box and reason in box
