"""Recipes against peers: the selection rule on synthetic results, and every peer path for real.

The builders run here at toy size on the real MiniLM encoder: sentence-transformers' backends
through Optimum, the OpenVINO INT8 export calibrated on the repository's corpus, and the
static-shape OpenVINO recipe candidate. The experiments themselves run end to end in the
session's toy run (see conftest.toy_results).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks import workloads
from benchmarks.claims import recipes as rules
from benchmarks.engines import sentence_transformers as st_engine
from benchmarks.engines.pytorch import eager_outputs
from benchmarks.results import ExperimentResult
from benchmarks.techniques import recipes
from tests.conftest import load_results

GOOD = {"cosine_mean": 0.999, "nn_top1_agreement": 0.99, "topic_map_ratio": 1.0}
BAD = {"cosine_mean": 0.999, "nn_top1_agreement": 0.99, "topic_map_ratio": 0.95}  # below the task bar


def synthetic(
    rounds: dict[str, list[float]], quality: dict[str, dict], roles: dict[str, str]
) -> ExperimentResult:
    """A recipes result at MiniLM's reference point; each variant's per-round medians are given."""
    point = {"batch": 1, "seq_len": 128}
    base = rounds["pytorch-eager"]
    entries = {}
    for name, medians in rounds.items():
        p50 = float(np.median(medians))
        entry = {
            "latency": {"p50": p50, "p90": p50 * 1.1, "p99": p50 * 1.2, "cv": 0.01},
            "round_medians": medians,
            "throughput_per_s": 1000.0 / p50,
        }
        if name != "pytorch-eager":
            ratios = [b / c for b, c in zip(base, medians, strict=True)]
            entry["speedup"] = {"median": float(np.median(ratios)), "ci_low": 0.0, "ci_high": 0.0}
        entries[name] = entry
    return ExperimentResult(
        experiment="recipes/minilm",
        status="ok",
        profile="toy",
        config={
            "technique": "recipes",
            "workload": "minilm",
            "baseline": "pytorch-eager",
            "variants": [
                {"name": n, "label": n, "label_zh": n, "options": {"role": roles[n]} if n in roles else {}}
                for n in rounds
            ],
        },
        machine={},
        cache_key="k",
        variants={n: {"quality": quality.get(n, GOOD), "info": {}} for n in rounds},
        one_time_costs={},
        points=[{"params": point, "variants": entries}],
    )


def test_the_rule_picks_the_fastest_candidate_and_the_fastest_peer_within_the_bar():
    rounds = {
        "pytorch-eager": [20.0, 21.0, 19.0, 20.0, 20.0],
        "fast-but-wrong": [2.0, 2.0, 2.0, 2.0, 2.0],  # a candidate below the bar never wins
        "good": [8.0, 8.4, 7.6, 8.0, 8.0],
        "slower": [10.0, 10.0, 10.0, 10.0, 10.0],
        "peer-wrong": [4.0, 4.0, 4.0, 4.0, 4.0],  # a peer below the bar is no competition
        "peer-best": [10.0, 12.0, 9.0, 10.0, 11.0],
        "peer-slow": [15.0, 15.0, 15.0, 15.0, 15.0],
    }
    roles = {n: recipes.CANDIDATE for n in ("fast-but-wrong", "good", "slower")}
    roles |= {n: recipes.PEER for n in ("peer-wrong", "peer-best", "peer-slow")}
    quality = {"fast-but-wrong": BAD, "peer-wrong": BAD}
    chosen = rules.select(synthetic(rounds, quality, roles))
    assert chosen.recipe.variant == "good"
    assert chosen.peer.variant == "peer-best"
    # the ratio pairs round i of the peer with round i of the recipe
    expected = np.median([p / r for p, r in zip(rounds["peer-best"], rounds["good"], strict=True)])
    assert chosen.ratio.median == pytest.approx(expected)
    assert chosen.ratio.rounds == 5
    assert chosen.ratio.ci_low <= chosen.ratio.median <= chosen.ratio.ci_high


def test_without_a_candidate_within_the_bar_there_is_no_recipe_and_no_ratio():
    rounds = {"pytorch-eager": [20.0, 20.0], "fast-but-wrong": [2.0, 2.0], "peer": [10.0, 10.0]}
    roles = {"fast-but-wrong": recipes.CANDIDATE, "peer": recipes.PEER}
    chosen = rules.select(synthetic(rounds, {"fast-but-wrong": BAD}, roles))
    assert chosen.recipe is None and chosen.ratio is None
    assert chosen.peer.variant == "peer"
    from benchmarks.report import recipes as page
    from benchmarks.report.strings import RECIPES

    lines = page.summary_lines(synthetic(rounds, {"fast-but-wrong": BAD}, roles), "en", {})
    assert lines[0] == RECIPES["en"]["no_recipe"]


def test_every_recipe_variant_declares_its_role():
    for exp in recipes.EXPERIMENTS:
        for spec in exp.variants[1:]:
            assert spec.options.get("role") in (recipes.PEER, recipes.CANDIDATE), (exp.name, spec.name)
        roles = {spec.options["role"] for spec in exp.variants[1:]}
        assert roles == {recipes.PEER, recipes.CANDIDATE}, exp.name


@pytest.fixture(scope="module")
def minilm(cache_dir):
    workload = workloads.get("minilm")
    workload.prepare()
    return workload


def _check_embeddings(variant, workload, atol):
    inputs = workload.timing_inputs({"batch": 2, "seq_len": 16})
    got = variant.predict(inputs)
    want = eager_outputs(workload.torch_model(), inputs)
    assert got.shape == want.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-3)
    assert float(np.max(np.abs(got - want))) <= atol
    # the timed call computes the same embeddings
    np.testing.assert_allclose(np.asarray(variant.bind(inputs)()), got, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    ("backend", "export", "atol"),
    [
        ("torch", None, 1e-5),
        ("onnx", None, 1e-4),
        ("onnx", "O3", 0.01),  # O3 approximates GELU
        ("onnx", "qint8", 0.1),
        ("openvino", None, 0.05),  # OpenVINO may pick bf16 on this CPU
    ],
)
def test_sentence_transformers_backends_match_the_encoder(minilm, tmp_path, backend, export, atol):
    options = {"backend": backend} | ({"export": export} if export else {})
    variant = recipes.build_sentence_transformers(minilm, options, threads=2, workdir=tmp_path)
    assert variant.info["backend"] == backend
    assert variant.info["compute_precision"] in ("fp32", "bf16", "int8")
    if export == "qint8":
        assert variant.info["compute_precision"] == "int8"
    if export:  # the exported file is the one that was loaded
        assert (tmp_path / "model" / variant.info["file_name"]).is_file()
    _check_embeddings(variant, minilm, atol)
    # the installed package was never written to
    assert not (minilm.model_dir() / "onnx").exists() and not (minilm.model_dir() / "openvino").exists()


@pytest.mark.slow
def test_openvino_int8_peer_is_calibrated_offline_on_the_repository_corpus(minilm, tmp_path):
    options = {"backend": "openvino", "export": "ov-qint8"}
    variant = recipes.build_sentence_transformers(minilm, options, threads=2, workdir=tmp_path)
    assert variant.info["calibration_texts"] == st_engine.OV_CALIBRATION_TEXTS
    assert variant.info["compute_precision"] == "int8"
    assert variant.one_time_costs["quantize_s"] > 0
    _check_embeddings(variant, minilm, atol=0.2)


def test_static_shape_openvino_candidate_compiles_each_shape_once(minilm, tmp_path):
    variant = recipes.build_openvino_static(minilm, {}, threads=2, workdir=tmp_path)
    assert variant.info["shapes_prepared"] == ["batch=1,seq=128"]
    call = variant.bind(minilm.timing_inputs({"batch": 1, "seq_len": 16}))
    out = np.array(call()[0]) if not isinstance(call(), np.ndarray) else call()
    assert out.shape == (1, 384)
    assert variant.info["shapes_prepared"] == ["batch=1,seq=128", "batch=1,seq=16"]
    # evaluation pads every sentence to the reference length: no shape is added
    batch = minilm.eval_batches(limit=4)[0]
    with torch.inference_mode():
        got = variant.predict(batch)
    assert got.shape == (4, 384)
    assert variant.info["shapes_prepared"] == ["batch=1,seq=128", "batch=1,seq=16"]
    cosine = np.sum(got * eager_outputs(minilm.torch_model(), batch), axis=1)
    assert cosine.min() > 0.99


def test_recipe_experiments_ran_at_toy_size_and_render(toy_results):
    stored = load_results(toy_results, list(recipes.RECIPE_EXPERIMENTS))
    for name, result in stored.items():
        chosen = rules.select(result, result.points[0]["params"])
        assert {e.role for e in chosen.entries} == {recipes.PEER, recipes.CANDIDATE}, name
        assert "flops_per_item" in result.variants["pytorch-eager"]["info"], name
        for e in chosen.entries:
            assert rules.compute_precision(result.variants[e.variant]["info"]) in ("fp32", "bf16", "int8")
    # every peer and candidate lands on the roofline, against the peak of its own precision
    from benchmarks.report.roofline import recipe_points, roofline_figure

    stored |= load_results(toy_results, ["roofline/gemm"])
    placed = recipe_points(stored)
    assert {p["experiment"] for p in placed} == set(recipes.RECIPE_EXPERIMENTS)
    assert all(p["gflop_s"] > 0 and p["fraction_of_peak"] > 0 for p in placed)
    assert sum(p["recipe"] for p in placed) <= len(recipes.RECIPE_EXPERIMENTS)
    for lang in ("en", "zh"):  # one trace of diamonds per workload
        fig = roofline_figure(stored, lang)
        diamonds = [t for t in fig.data if t.marker.symbol == "diamond"]
        assert len(diamonds) == len(recipes.RECIPE_EXPERIMENTS)


# ---- targets and the measured reasons for a miss ------------------------------------------------


def _paired(
    workload: str, peer: list[float], recipe: list[float], infos: dict | None = None
) -> ExperimentResult:
    """A two-variant recipes result for ``workload``: a peer and a candidate, both within the bar."""
    rounds = {"pytorch-eager": [40.0] * len(peer), "peer": peer, "cand": recipe}
    result = synthetic(rounds, {}, {"peer": recipes.PEER, "cand": recipes.CANDIDATE})
    result.config["workload"] = workload
    if workload != "minilm":
        result.points[0]["params"] = {"batch": 1}
        good = {"accuracy": 0.98, "accuracy_drop_points": 0.0, "agreement": 1.0}
        good |= {"cosine_mean": 1.0, "top1_agreement": 1.0}  # the ResNet-50 fidelity bar reads these
        for name in rounds:
            result.variants[name]["quality"] = good
    for name, info in (infos or {}).items():
        result.variants[name]["info"] = info
    return result


@pytest.mark.parametrize(
    ("workload", "peer", "recipe", "met", "goal_met"),
    [
        ("minilm", [13.0, 13.0, 13.0], [10.0, 10.0, 10.0], True, True),  # 1.3x: the goal is the target
        ("minilm", [12.0, 12.0, 12.0], [10.0, 10.0, 10.0], False, False),  # 1.2x
        ("digits-cnn", [13.0, 13.0, 13.0], [10.0, 10.0, 10.0], True, True),
        ("digits-cnn", [11.0, 11.5, 12.0], [10.0, 10.0, 10.0], True, False),  # matches the peer, aim missed
        ("digits-cnn", [9.0, 10.5, 11.0], [10.0, 10.0, 10.0], False, False),  # lower end under 1x
    ],
)
def test_each_target_can_be_met_matched_or_missed(workload, peer, recipe, met, goal_met):
    found = rules.outcome(_paired(workload, peer, recipe))
    assert found.met is met and found.goal_met is goal_met
    assert (found.reasons == []) is goal_met  # a miss always names a reason, "unexplained" included


def test_a_miss_names_each_measured_limit_that_applies():
    fp32 = {"engine": "onnxruntime", "compute_precision": "fp32"}
    base = {"params": 1_000_000, "io_bytes_per_item": {"b1": 1000}, "flops_per_item": {"b1": 2e8}}
    result = _paired("digits-cnn", [11.0, 11.0, 11.0], [10.0, 10.0, 10.0], {"peer": fp32, "cand": fp32})
    result.variants["pytorch-eager"]["info"] = base
    from benchmarks.points import shape_key

    key = shape_key({"batch": 1})
    base["io_bytes_per_item"], base["flops_per_item"] = {key: 1000}, {key: 2e8}

    def kinds(**limits):
        return [r.kind for r in rules.outcome(result, **limits).reasons]

    assert kinds() == ["same-kernels"]
    # 4 MB of FP32 weights in 10 ms is 0.4 GB/s: bandwidth-bound against 0.5 GB/s, cache-resident
    # against 0.1 GB/s (four times what DRAM gives), no limit against 10 GB/s.
    assert "bandwidth" in kinds(bandwidth_gb_s=0.5)
    assert "bandwidth" not in kinds(bandwidth_gb_s=0.1)
    assert "bandwidth" not in kinds(bandwidth_gb_s=10.0)
    assert "overhead" in kinds(overhead_ms={"onnxruntime": 3.0})
    assert "overhead" not in kinds(overhead_ms={"onnxruntime": 0.1})
    # 2e8 FLOPs in 10 ms is 20 GFLOP/s
    assert "peak" in kinds(peak={"fp32": 30.0})
    assert "peak" not in kinds(peak={"fp32": 100.0})
    other = _paired("digits-cnn", [11.0] * 3, [10.0] * 3, {"peer": {"engine": "litert"}, "cand": fp32})
    assert [r.kind for r in rules.outcome(other).reasons] == ["unexplained"]


def test_the_targets_table_shows_every_point_and_the_reason():
    from benchmarks.report import recipes as page

    result = _paired("digits-cnn", [9.0, 10.5, 11.0], [10.0, 10.0, 10.0])
    rows = page.targets_rows(result, "en", {})
    assert len(rows) == 1
    row = rows[0]
    assert row["outcome"].startswith("not matched (lower end") and "under 1.00×" in row["outcome"]
    assert "none of the measured limits" in row["measured reason for a miss"]
    zh = page.targets_rows(result, "zh", {})[0]
    assert zh["结果"].startswith("未持平")


def test_weights_that_fit_in_the_last_level_cache_name_no_bandwidth_limit():
    fp32 = {"engine": "onnxruntime", "compute_precision": "fp32"}
    result = _paired("digits-cnn", [11.0, 11.0, 11.0], [10.0, 10.0, 10.0], {"peer": fp32, "cand": fp32})
    from benchmarks.points import shape_key

    key = shape_key({"batch": 1})
    result.variants["pytorch-eager"]["info"] = {"params": 1_000_000, "io_bytes_per_item": {key: 1000}}

    def kinds(cache):
        result.machine = {"last_level_cache_bytes": cache} if cache else {}
        return [r.kind for r in rules.outcome(result, bandwidth_gb_s=0.5).reasons]

    assert "bandwidth" in kinds(None)  # unknown cache: the rate alone decides
    assert "bandwidth" in kinds(2**20)  # 4 MB of weights do not fit in 1 MiB
    assert "bandwidth" not in kinds(32 * 2**20)  # they fit in 32 MiB
