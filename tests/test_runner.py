"""The runner keeps going when one experiment crashes, and records why."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import results
from benchmarks.experiments import PROFILES, Experiment, Profile, VariantSpec
from benchmarks.harness import MeasureSettings
from benchmarks.runner import run_all
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER

TOY = PROFILES["toy"]

GRIDS = {name: ({"batch": 1},) for name in PROFILES}


def experiment(name: str, builder: str) -> Experiment:
    candidate = VariantSpec("candidate", "candidate", "候选", builder)
    return Experiment(
        name=name, technique="test", workload="digits-cnn", variants=(PYTORCH_EAGER, candidate), grids=GRIDS
    )


def test_crash_is_recorded_as_failed_and_others_still_run(tmp_path, cache_dir):
    crashing = experiment("test/crash", "tests.fake_variants:build_crashing")
    killed = experiment("test/killed", "tests.fake_variants:build_killed")
    raising = experiment("test/raise", "tests.fake_variants:build_raising")
    good = experiment("test/good", "benchmarks.engines.pytorch:build_pytorch_eager")
    outcomes = run_all([crashing, killed, raising, good], TOY, tmp_path, progress=lambda _: None)
    assert [status for _, status, _ in outcomes] == ["failed", "failed", "failed", "ok"]

    crash, _ = results.load_experiment("test/crash", tmp_path)
    assert crash.status == "failed" and "SIGSEGV" in crash.reason
    oom, _ = results.load_experiment("test/killed", tmp_path)
    assert "killed by signal SIGKILL" in oom.reason
    raised, _ = results.load_experiment("test/raise", tmp_path)
    assert "cannot be built here" in raised.reason
    ok, _ = results.load_experiment("test/good", tmp_path)
    assert ok.status == "ok"
    entry = ok.points[0]["variants"]["candidate"]
    assert entry["latency"]["count"] >= 3 and entry["speedup"]["rounds"] == 2
    assert ok.variants["candidate"]["quality"]["accuracy"] > 0.9
    assert ok.variants["candidate"]["memory"]["peak_rss_mb"] > 0
    assert ok.config["threads"] >= 1 and ok.machine["logical_cores"] >= 1

    # Up to date now: a second run skips it; a crash on re-run keeps the good result.
    again = run_all([good], TOY, tmp_path, progress=lambda _: None)
    assert again[0][1] == "up-to-date"


def test_hung_worker_times_out(tmp_path, cache_dir):
    quick = Profile(
        "toy", MeasureSettings(warmup_iters=1, warmup_s=0, min_iters=3, min_s=0, rounds=1), 10, 5.0
    )
    hanging = experiment("test/hang", "tests.fake_variants:build_hanging")
    outcomes = run_all([hanging], quick, tmp_path, progress=lambda _: None)
    assert outcomes[0][1] == "failed"
    stored, _ = results.load_experiment("test/hang", tmp_path)
    assert "timeout" in stored.reason


def test_unknown_profile_is_refused(tmp_path):
    from benchmarks.experiments import UnknownProfileError, get_profile

    with pytest.raises(UnknownProfileError, match="unknown profile"):
        get_profile("huge")


@pytest.mark.parametrize("repeats", [1, 0])
def test_noisy_point_is_measured_again_as_the_profile_says_and_flagged(tmp_path, cache_dir, repeats):
    import dataclasses

    from benchmarks import experiments

    profile = dataclasses.replace(experiments.PROFILES["toy"], noise_repeats=repeats)
    jittery = experiment("test/jitter", "tests.fake_variants:build_jittery")
    lines: list[str] = []
    run_all([jittery], profile, tmp_path, progress=lines.append)
    stored, _ = results.load_experiment("test/jitter", tmp_path)
    point = stored.points[0]
    assert point["attempts"] == repeats + 1 and "candidate" in point["noisy"]
    assert point["variants"]["candidate"]["round_cv"] > stored.config["noisy_cv"]
    assert stored.config["noise_repeats"] == repeats
    assert any("measuring again" in line for line in lines) == bool(repeats)


def test_pure_variants_outputs_are_keyed_by_what_computes_them():
    from benchmarks import cache
    from benchmarks.machine import machine_card
    from benchmarks.techniques import recipes
    from benchmarks.techniques.onnxruntime import ORT_ALL

    card = machine_card()
    first, second = (experiment(f"test/key-{n}", "tests.fake_variants:build_jittery") for n in "ab")

    def key(exp, variant, threads=2):
        return cache.outputs_key(exp, variant, TOY, card, threads)

    eager = key(first, PYTORCH_EAGER)
    assert eager is not None and eager == key(second, PYTORCH_EAGER)
    assert eager != key(first, PYTORCH_EAGER, threads=1)  # another thread count may round apart
    assert key(first, first.variants[1]) is None  # a builder not known to be pure
    # The recipes baseline computes the eager model's outputs (and counts FLOPs besides).
    assert key(first, recipes.BASELINE) == eager
    # A label option does not change what is computed; a real option does.
    assert key(first, ORT_ALL) == key(
        first,
        VariantSpec("x", "x", "x", ORT_ALL.builder, {**ORT_ALL.options, "role": "peer"}, ORT_ALL.packages),
    )
    assert key(first, ORT_ALL) != key(
        first, VariantSpec("x", "x", "x", ORT_ALL.builder, {"opt_level": "basic"}, ORT_ALL.packages)
    )


def test_eager_reference_is_evaluated_once_reused_after_and_recomputed_when_unreadable(tmp_path, cache_dir):
    first, second, third = (
        experiment(f"test/reference-{n}", "tests.fake_variants:build_jittery") for n in "abc"
    )
    for old in (cache_dir / "outputs").glob("digits-cnn-*.npy"):
        old.unlink()
    run_all([first, second], TOY, tmp_path, progress=lambda _: None)
    a, _ = results.load_experiment(first.name, tmp_path)
    b, _ = results.load_experiment(second.name, tmp_path)
    assert "eval_outputs_reused_from" not in a.variants["pytorch-eager"]["info"]
    assert b.variants["pytorch-eager"]["info"]["eval_outputs_reused_from"].endswith(".npy")
    assert "eval_outputs_reused_from" not in b.variants["candidate"]["info"]  # not a pure builder
    assert a.variants["pytorch-eager"]["quality"] == b.variants["pytorch-eager"]["quality"]
    assert a.variants["pytorch-eager"]["quality"]["accuracy"] > 0.9
    # The reference is the baseline's outputs, not whichever worker finished building first.
    assert a.variants["pytorch-eager"]["quality"]["agreement_with_fp32"] == 1.0
    assert a.variants["candidate"]["quality"]["agreement_with_fp32"] < 0.5  # it answers zeros

    (stored,) = (cache_dir / "outputs").glob("digits-cnn-*.npy")
    stored.write_bytes(b"not an array")
    run_all([third], TOY, tmp_path, progress=lambda _: None)
    c, _ = results.load_experiment(third.name, tmp_path)
    assert c.status == "ok" and "eval_outputs_reused_from" not in c.variants["pytorch-eager"]["info"]
    assert c.variants["pytorch-eager"]["quality"] == a.variants["pytorch-eager"]["quality"]
    assert np.load(stored).shape[0] == a.variants["pytorch-eager"]["quality"]["n_images"]


def test_peak_memory_is_the_served_models_not_its_evaluations(tmp_path, cache_dir):
    """Whether an evaluation ran in a worker (or was reused) must not change its memory figure."""
    hungry = experiment("test/eval-memory", "tests.fake_variants:build_hungry_evaluation")
    run_all([hungry], TOY, tmp_path, progress=lambda _: None)
    stored, _ = results.load_experiment(hungry.name, tmp_path)
    memory = stored.variants["candidate"]["memory"]
    assert memory["peak_scope"] == "serving"
    assert memory["lifetime_peak_rss_mb"] - memory["peak_rss_mb"] > 250  # the evaluation's 400 MB


@pytest.mark.parametrize(
    ("scale", "full", "expected"), [("1", 80, 80), ("0.5", 80, 40), ("0.1", 2, 1), ("0.5", 1, 1)]
)
def test_training_length_scales_with_the_profile_and_never_reaches_zero(monkeypatch, scale, full, expected):
    from benchmarks.experiments import TRAINING_SCALE_ENV, training_length

    monkeypatch.setenv(TRAINING_SCALE_ENV, scale)
    assert training_length(full) == expected


def test_next_round_waits_until_the_previous_worker_stops_spinning():
    import subprocess
    import sys

    from benchmarks.workers import IDLE_CAP_S, wait_until_idle

    # Spins for 0.3 s (as a thread pool does after its last task), then sleeps; it says when
    # it starts, so the check does not depend on how fast the interpreter starts.
    spin = (
        "import sys, time\nprint('spinning', flush=True)\nend = time.perf_counter() + 0.3\n"
        "while time.perf_counter() < end: pass\ntime.sleep(30)"
    )
    proc = subprocess.Popen([sys.executable, "-c", spin], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "spinning"
        waited = wait_until_idle(proc.pid)
        assert waited is not None and 0.1 < waited < IDLE_CAP_S
        assert wait_until_idle(proc.pid) < 0.1  # idle now: the next round starts at once
    finally:
        proc.kill()


def test_a_variant_this_machine_cannot_run_is_recorded_as_skipped_with_its_reason(tmp_path, cache_dir):
    from benchmarks.report.page import Renderer

    eager = "benchmarks.engines.pytorch:build_pytorch_eager"
    here = VariantSpec("here", "here", "这里", eager, requires="tests.fake_variants:always_here")
    absent = VariantSpec(
        "absent", "Absent engine", "缺席引擎", eager, requires="tests.fake_variants:never_here"
    )
    exp = Experiment(
        name="test/skipped-variant",
        technique="test",
        workload="digits-cnn",
        variants=(PYTORCH_EAGER, here, absent),
        grids=GRIDS,
    )
    [(_, status, _)] = run_all([exp], TOY, tmp_path, progress=lambda _: None)
    assert status == "ok"
    stored, _ = results.load_experiment("test/skipped-variant", tmp_path)
    assert stored.skipped_variants == {"absent": "no wheel of <this engine> for this machine"}
    assert set(stored.variants) == {PYTORCH_EAGER.name, "here"}
    assert set(stored.points[0]["variants"]) == {PYTORCH_EAGER.name, "here"}

    # Shown, never hidden: every page that loads the result names the variant and the reason (escaped).
    page = Renderer(tmp_path)
    page.experiments["test/skipped-variant"] = exp
    for lang, label in (("en", "Absent engine"), ("zh", "缺席引擎")):
        _, notice = page.load("test/skipped-variant", lang)
        assert label in notice and "&lt;this engine&gt;" in notice and "<this engine>" not in notice


def test_litert_is_skipped_where_its_packages_are_not_installed(monkeypatch):
    import importlib.util
    import platform

    from benchmarks.engines import litert

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "litert_torch" else real(name)
    )
    reason = litert.unavailable()
    assert reason is not None and "litert_torch" in reason
    monkeypatch.setattr(importlib.util, "find_spec", real)
    if platform.machine() == "x86_64":  # requirements.txt installs LiteRT there
        assert litert.unavailable() is None
