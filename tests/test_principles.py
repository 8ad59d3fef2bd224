"""Principles (threads, SIMD width, roofline, layout) and methods C8/C9: the mechanics that must hold."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import results as results_mod
from benchmarks import workloads
from benchmarks.claims import OUTCOMES
from benchmarks.claims import principles as rules
from benchmarks.points import usable_cores
from benchmarks.techniques import isa, layout, model_size, pretrained, roofline, threads
from tests.conftest import load_results

NAMES = [exp.name for m in (threads, isa, roofline, layout, model_size, pretrained) for exp in m.EXPERIMENTS]


@pytest.fixture(scope="module")
def toy(toy_results: Path) -> dict[str, results_mod.ExperimentResult]:
    """This module's experiments from the session's toy run of every experiment."""
    return load_results(toy_results, NAMES)


def test_every_experiment_runs_ok_at_toy_size(toy):
    for name, result in toy.items():
        if name.startswith("threads/") and usable_cores() < 2:
            assert result.status == "skipped"
            continue
        assert result.status == "ok", f"{name}: {result.reason}"
        assert result.points, name
        for variant in result.variants.values():
            assert "quality" in variant and "memory" in variant


def test_thread_variants_record_the_threads_they_asked_for(toy):
    result = toy["threads/digits-cnn"]
    if result.status == "skipped":
        pytest.skip(result.reason)
    asked = []
    for name, variant in result.variants.items():
        record = variant["info"]
        assert record["torch_threads"] == record["threads_requested"], name
        assert name == f"threads-{record['threads_requested']}"
        asked.append(record["threads_requested"])
    assert asked[0] == 1 and len(set(asked)) == len(asked) >= 2
    assert result.config["baseline"] == "threads-1"


def test_simd_cap_changes_what_the_worker_dispatches_to(toy):
    for name in ("isa/digits-cnn", "isa/minilm"):
        result = toy[name]
        native, avx2, sse = (result.variants[v]["info"] for v in ("isa-native", "isa-avx2", "isa-sse"))
        assert sse["aten_capability"] == "DEFAULT"
        # MKL names its code path on Intel CPUs only ("Intel(R) Architecture processors" on AMD),
        # so the check is that it never names one wider than the cap.
        assert "AVX" not in sse["mkl_isa"]
        assert avx2["aten_capability"] in ("AVX2", "DEFAULT")
        assert "AVX-512" not in avx2["mkl_isa"] and "AVX512" not in avx2["mkl_isa"]
        assert native["simd_bits"] >= avx2["simd_bits"] >= sse["simd_bits"] == 128
    # The CNN's convolutions run in oneDNN: its kernels must follow the cap too.
    cnn = toy["isa/digits-cnn"].variants
    assert all("avx512" not in k for k in cnn["isa-avx2"]["info"]["onednn_kernels"])
    assert "SSE4.1" in cnn["isa-sse"]["info"]["onednn_isa"]


def test_simd_builder_refuses_when_torch_is_already_loaded(tmp_path):
    import torch  # noqa: F401  (the point: torch is loaded before the cap)

    assert "torch" in sys.modules
    with pytest.raises(isa.IsaCapError, match="before the SIMD cap"):
        isa.build_isa(workloads.get("digits-cnn"), {"isa": "avx2"}, 1, tmp_path)


def test_channels_last_gives_the_contiguous_outputs(tmp_path, cache_dir):
    workload = workloads.get("digits-cnn")
    contiguous = layout.build_layout(workload, {"layout": "contiguous"}, 1, tmp_path)
    batch = workload.eval_batches(limit=40)[0]
    expected = contiguous.predict(batch)
    for memory_layout in ("channels-last", "channels-last-prepared"):
        variant = layout.build_layout(workload, {"layout": memory_layout}, 1, tmp_path)
        assert variant.info["conv_weights_channels_last"] is True
        assert variant.info["max_abs_diff_vs_contiguous"] <= 1e-5
        np.testing.assert_allclose(variant.predict(batch), expected, atol=1e-5, rtol=0)
        np.testing.assert_allclose(variant.bind(batch)().numpy(), expected, atol=1e-5, rtol=0)


def test_model_size_sweep_grows_in_parameters(toy):
    result = toy["model-size/digits-cnn"]
    params = {name: v["info"]["params"] for name, v in result.variants.items()}
    base = params["pytorch-eager"]
    assert params["w4-d2"] < params["w8-d2"] < base < params["w32-d2"]
    assert params["w16-d1"] < base
    flops = {name: v["info"]["flops_per_image"] for name, v in result.variants.items()}
    assert flops["w4-d2"] < flops["w8-d2"] < flops["pytorch-eager"] < flops["w32-d2"]


def test_sized_network_of_depth_two_is_the_workloads_network():
    from benchmarks.workloads import digits_cnn

    ours = model_size.build_sized_cnn(**model_size.DIGITS_BASE).state_dict()
    theirs = digits_cnn.build_model().state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_few_shot_uses_the_train_split_only_and_records_a_curve(toy):
    from benchmarks.workloads import digits_cnn

    x_few, y_few = pretrained.few_shot_split()
    x_train = digits_cnn.dataset()[0]
    assert np.bincount(y_few, minlength=10).tolist() == [pretrained.FEW_SHOT_PER_CLASS] * 10
    train_rows = {row.tobytes() for row in x_train}
    assert all(row.tobytes() in train_rows for row in x_few)
    result = toy["pretrained/digits-cnn"]
    for name in ("scratch", "pretrained"):
        record = result.variants[name]["info"]
        steps = [row[0] for row in record["curve"]]
        assert steps[0] == 0 and steps[-1] == pretrained.FEW_SHOT_STEPS
        assert record["final_test_accuracy"] == record["curve"][-1][2]
    assert "pretrain_s_paid_once_by_publisher" in result.one_time_costs["pretrained"]
    assert rules.steps_to([(0, 0.0, 0.2, 0.1), (10, 1.0, 0.9, 0.8)], 0.9) == (10, 1.0)


def test_peak_probes_measure_positive_rates_and_exact_int8():
    peaks = roofline.measure_peaks(threads=1, gemm_size=128, copy_mb=8, repeats=2)
    for kind in ("fp32-torch", "fp32-numpy", "bf16-torch", "int8"):
        assert peaks[kind]["gflop_s"] > 0
        assert peaks[kind]["flops_per_call"] == 2 * 128**3
    assert peaks["int8"]["max_abs_error_vs_float64"] == 0.0
    assert peaks["fp32-torch"]["max_abs_error_vs_float64"] < 1e-3
    assert peaks["copy-numpy"]["gb_s"] > 0 and peaks["copy-torch"]["bytes_per_call"] == 2 * 8 * 2**20


def test_roofline_figure_places_ceilings_and_models(toy):
    from benchmarks.report.roofline import roofline_figure

    data = roofline.roofline_data(toy)
    assert set(data["gflop_s"]) == {v.name for v in roofline.GEMM_VARIANTS}
    assert all(v > 0 for v in (*data["gflop_s"].values(), *data["gb_s"].values()))
    measured = toy["threads/digits-cnn"].status == "ok"
    assert bool(data["models"]) == measured
    for model in data["models"]:
        assert model["intensity"] > 0 and model["gflop_s"] > 0
    for lang in ("en", "zh"):
        fig = roofline_figure(toy, lang)
        assert len(fig.data) >= 1 + len(data["gflop_s"])


def test_verdicts_judge_toy_results(toy):
    ok = {name: r for name, r in toy.items() if r.status == "ok"}
    for verdict in rules.VERDICTS:
        if not all(name in ok for name in verdict.experiments):
            continue
        finding = verdict.judge({name: ok[name] for name in verdict.experiments})
        assert finding.outcome in OUTCOMES
        assert finding.evidence and finding.evidence_zh
