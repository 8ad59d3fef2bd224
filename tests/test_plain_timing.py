"""The harness measures what a user timing the engine plainly would measure.

A margin that only the harness sees is not one: rounds that interleave workers
could charge each variant the cold caches and sleeping threads that the previous
worker left, which no user's steady stream of calls meets. This test times one
configuration (ONNX Runtime FP32 on the digits CNN at its reference point, batch 1,
a call of tens of microseconds, where such costs weigh most) both ways: through the
runner, interleaved with PyTorch eager in paired rounds, and in a process of its
own that only calls it in a loop for a second. The two must agree within the noise
the test measures: the spread of the plain runs among themselves and of the
harness's rounds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest

from benchmarks import results
from benchmarks.experiments import PROFILES, Experiment, Profile
from benchmarks.harness import MeasureSettings
from benchmarks.runner import run_all
from benchmarks.techniques.onnxruntime import ORT_ALL, PYTORCH_EAGER

POINT = {"batch": 1}
THREADS = 1  # the harness is under test, not how this machine schedules two threads
FLOOR = 0.10  # agreement asked for even when both ways measure no noise at all

# A user's timing: build the same configuration, call it for a second, take the median.
PLAIN = """
import json, statistics, sys, tempfile, time
from pathlib import Path
from benchmarks import workloads
from benchmarks.techniques.onnxruntime import build_ort_graph
workload = workloads.get("digits-cnn")
variant = build_ort_graph(workload, {"opt_level": "all"}, %(threads)d, Path(tempfile.mkdtemp()))
call = variant.bind(workload.timing_inputs(%(point)r))
for _ in range(200):
    call()
samples, end = [], time.perf_counter() + 1.0
while time.perf_counter() < end:
    t0 = time.perf_counter_ns()
    call()
    samples.append((time.perf_counter_ns() - t0) / 1e6)
print(json.dumps({"p50": statistics.median(samples), "n": len(samples)}))
"""


def _plain_p50() -> float:
    done = subprocess.run(
        [sys.executable, "-c", PLAIN % {"threads": THREADS, "point": POINT}],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])["p50"]


def _spread(values: list[float]) -> float:
    return max(values) / min(values) - 1.0


@pytest.mark.slow
def test_harness_agrees_with_a_plain_timing_of_the_same_configuration(tmp_path, cache_dir, monkeypatch):
    settings = MeasureSettings(
        warmup_iters=2,
        warmup_s=0.1,
        min_iters=3,
        min_s=0.05,
        rounds=4,
        round_warmup_s=0.05,
        reference_min_s=0.5,
    )
    profile = Profile("toy", settings, eval_limit=40, timeout_s=600)
    exp = Experiment(
        name="test/plain-timing",
        technique="test",
        workload="digits-cnn",
        variants=(PYTORCH_EAGER, ORT_ALL),
        grids={name: (POINT,) for name in PROFILES},
        threads=THREADS,
    )
    plain = [_plain_p50()]
    (_, status, _), *_ = run_all([exp], profile, tmp_path, progress=lambda _: None)
    plain.append(_plain_p50())
    assert status == "ok"
    stored, _ = results.load_experiment(exp.name, tmp_path)
    entry = stored.points[0]["variants"][ORT_ALL.name]
    # every reference round held its half second of calls, not a handful
    assert entry["latency"]["count"] >= 4 * 1000
    harness = entry["latency"]["p50"]
    noise = max(_spread(plain), _spread(entry["round_medians"]), FLOOR)
    gap = max(harness, statistics.median(plain)) / min(harness, statistics.median(plain)) - 1.0
    assert gap <= noise, (
        f"harness p50 {harness:.4f} ms against plain {plain} ms: {gap:.1%} apart, beyond the "
        f"{noise:.1%} the two ways vary by themselves"
    )
