"""Inference methods (padding, caching) and the C13 judge: the mechanics that must hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import results as results_mod
from benchmarks import workloads
from benchmarks.claims import OUTCOMES
from benchmarks.claims import methods as methods_claims
from benchmarks.results import ExperimentResult
from benchmarks.techniques import methods
from tests.conftest import load_results

NAMES = [exp.name for exp in methods.EXPERIMENTS]


@pytest.fixture(scope="module")
def toy(toy_results: Path) -> dict[str, results_mod.ExperimentResult]:
    """This module's experiments from the session's toy run of every experiment."""
    return load_results(toy_results, NAMES)


def test_lru_hit_rate_is_exact_on_a_known_stream():
    # capacity 2: a miss, b miss, a hit, c miss (evicts b), a hit, b miss (evicts c), c miss
    assert methods.simulate_hit_rate(list("abacabc"), 2) == pytest.approx(2 / 7)
    assert methods.simulate_hit_rate(list("abacabc"), 3) == pytest.approx(4 / 7)
    assert methods.simulate_hit_rate(list("abacabc"), 0) == 0.0
    assert methods.simulate_hit_rate(list("abacabc"), 2, skip=3) == pytest.approx(1 / 4)
    cache = methods.LRUCache(1)
    calls = []
    for key in "aab":
        cache.get_or_compute(key, lambda key=key: calls.append(key) or key.upper())
    assert calls == ["a", "b"] and (cache.hits, cache.misses) == (1, 2)
    assert list(cache.entries) == ["b"]


def test_warm_cache_holds_what_the_stream_left_in_lru_order():
    texts = ["a", "b", "c"]
    # a, b, a (hit), c (evicts b), a (hit), b (evicts c): a then b remain, a least recently used
    assert methods.warm_cache_keys([0, 1, 0, 2, 0, 1], 2, texts) == ["a", "b"]
    assert methods.warm_cache_keys([0, 1, 0, 2, 0, 1], 0, texts) == []


def test_zipf_stream_is_seeded_and_skewed():
    a, b = methods.zipf_stream(256, 5000), methods.zipf_stream(256, 5000)
    np.testing.assert_array_equal(a, b)
    counts = np.sort(np.bincount(a, minlength=256))[::-1]
    assert counts[0] > 10 * np.median(counts)
    rates = [methods.simulate_hit_rate(a, c, skip=500) for c in methods.CACHE_SIZES]
    assert rates == sorted(rates) and rates[0] == 0.0


def test_every_experiment_runs_ok_at_toy_size(toy):
    for name, result in toy.items():
        assert result.points, name
        for variant in result.variants.values():
            assert "quality" in variant and "memory" in variant


def test_cache_variants_record_their_capacity_and_exact_answers(toy):
    texts = workloads.get("minilm").eval_texts()
    for exp, skew in methods.CACHE_EXPERIMENTS.items():
        result = toy[exp]
        stream = methods.zipf_stream(len(texts), methods.STREAM_LENGTH, skew)
        for size in methods.CACHE_SIZES:
            name = "no-cache" if size == 0 else f"lru-{size}"
            record = result.variants[name]["info"]
            assert record["cache_capacity"] == size < len(texts)  # never every distinct sentence
            assert record["zipf_s"] == skew
            assert record["hit_rate"] == methods.simulate_hit_rate(stream, size, skip=methods.HIT_RATE_FROM)
            # Cached answers are the encoder's answers.
            assert result.variants[name]["quality"]["cosine_min"] > 0.9999
        assert (
            result.variants["lru-64"]["info"]["cache_mb_when_full"]
            > result.variants["lru-16"]["info"]["cache_mb_when_full"]
        )
    # The milder stream repeats itself less: every cache size hits less often on it.
    steep, mild = (toy[exp].variants for exp in methods.CACHE_EXPERIMENTS)
    assert all(mild[n]["info"]["hit_rate"] < steep[n]["info"]["hit_rate"] for n in ("lru-16", "lru-64"))


def test_padding_variants_keep_the_embeddings_and_record_the_tokenizer_share(toy):
    result = toy["inputs/minilm"]
    for name in ("pad-max-length", "pad-longest"):
        record = result.variants[name]["info"]
        assert result.variants[name]["quality"]["cosine_min"] > 0.9999
        for batch in map(str, methods.SHARE_BATCHES):
            share = record["tokenizer_share_by_batch"][batch]
            assert 0 < share["tokenize_share"] < 1
            assert share["tokenize_ms"] < share["end_to_end_ms"]
    longest = result.variants["pad-longest"]["info"]["padding_fraction_by_batch"]
    fixed = result.variants["pad-max-length"]["info"]["padding_fraction_by_batch"]
    assert longest["1"] == 0.0 and all(fixed[b] > longest[b] for b in fixed)


def test_texts_are_recovered_from_evaluation_tokens():
    workload = workloads.get("minilm")
    lookup = methods._texts_by_tokens(workload)
    batch = workload.eval_batches(limit=40)[0]
    recovered = methods._texts_of(batch, lookup)
    assert len(set(recovered)) == len(batch["input_ids"])
    assert set(recovered) <= set(workload.eval_texts()[:40])


def test_verdicts_judge_toy_results(toy):
    for verdict in methods_claims.VERDICTS:
        if not all(name in toy for name in verdict.experiments):
            continue
        finding = verdict.judge({name: toy[name] for name in verdict.experiments})
        assert finding.outcome in OUTCOMES and finding.evidence and finding.evidence_zh


def _synthetic(name: str, workload: str, p99: dict[str, float]) -> ExperimentResult:
    module = workloads.get(workload)
    good = {
        "accuracy": 0.98,
        "cosine_mean": 0.9999,
        "nn_top1_agreement": 1.0,
        "topic_map_ratio": 1.0,
        "top1_agreement": 1.0,
    }
    return ExperimentResult(
        experiment=name,
        status="ok",
        profile="toy",
        config={"workload": workload, "baseline": "pytorch-eager", "technique": "x"},
        machine={},
        cache_key="",
        variants={v: {"quality": good, "info": {}} for v in p99},
        points=[
            {
                "params": dict(module.REFERENCE_POINT),
                "variants": {
                    v: {"latency": {"p99": ms}, "throughput_per_s": 1000 / ms} for v, ms in p99.items()
                },
            }
        ],
    )


@pytest.mark.parametrize(
    ("minilm_ms", "cnn_ms", "outcome"),
    [(40.0, 1.0, "holds"), (80.0, 1.0, "partly"), (80.0, 60.0, "does-not-hold")],
)
def test_c13_judge_applies_the_budget(minilm_ms, cnn_ms, outcome):
    results = {
        "onnxruntime/minilm": _synthetic(
            "onnxruntime/minilm", "minilm", {"pytorch-eager": minilm_ms * 2, "onnxruntime": minilm_ms}
        ),
        "onnxruntime/digits-cnn": _synthetic(
            "onnxruntime/digits-cnn", "digits-cnn", {"pytorch-eager": cnn_ms}
        ),
        "layout/resnet50": _synthetic("layout/resnet50", "resnet50", {"pytorch-eager": 500.0}),
    }
    assert methods_claims.judge_c13(results).outcome == outcome


def _with_cache_speedups(toy, steep: tuple[float, float], mild: tuple[float, float]) -> dict:
    """The two cache results with every cache's paired speedup interval set to (low, high)."""
    import dataclasses
    import json

    changed = {}
    for exp, (low, high) in zip(methods.CACHE_EXPERIMENTS, (steep, mild), strict=True):
        points = json.loads(json.dumps(toy[exp].points))
        for entry in points:
            for name, row in entry["variants"].items():
                if name != "no-cache":
                    row["speedup"].update(median=(low + high) / 2, ci_low=low, ci_high=high)
        changed[exp] = dataclasses.replace(toy[exp], points=points)
    return changed


@pytest.mark.parametrize(
    ("steep", "mild", "outcome"),
    [
        ((2.0, 3.0), (1.6, 2.0), "holds"),
        ((2.0, 3.0), (1.0, 1.3), "partly"),
        ((2.0, 3.0), (1.2, 1.8), "partly"),
        ((1.1, 1.4), (1.0, 1.3), "does-not-hold"),
        ((1.3, 1.8), (1.0, 1.3), "inconclusive"),
    ],
)
def test_c12_judge_reaches_every_outcome_of_its_rule(toy, steep, mild, outcome):
    finding = methods_claims.judge_c12(_with_cache_speedups(toy, steep, mild))
    assert finding.outcome == outcome, finding.evidence
    assert f"threshold {methods_claims.CACHE_GAIN}×" in finding.evidence and "门槛" in finding.evidence_zh
