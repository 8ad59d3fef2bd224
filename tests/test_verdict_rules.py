"""Every outcome a principles or methods rule names is reached on synthetic results, and a
verdict reads the figures its rule names: a rule that can only come out one way fails here."""

from __future__ import annotations

import pytest

from benchmarks.claims import methods, principles
from tests.synthetic import result

B1 = {"batch": 1}
B8 = {"batch": 8}


def threads(c2_minilm: float, c2_digits: float) -> dict:
    variants = {
        "threads-1": {"info": {"threads_requested": 1}},
        "threads-2": {"info": {"threads_requested": 2}},
    }
    return {
        "threads/minilm": result("threads/minilm", "minilm", variants, [(B1, {"threads-2": c2_minilm})]),
        "threads/digits-cnn": result(
            "threads/digits-cnn", "digits-cnn", variants, [(B8, {"threads-2": c2_digits})]
        ),
    }


@pytest.mark.parametrize(
    ("minilm", "digits", "outcome"),
    [(1.8, 1.6, "holds"), (1.8, 1.0, "partly"), (1.2, 1.15, "partly"), (1.05, 1.0, "does-not-hold")],
)
def test_c2(minilm, digits, outcome):
    finding = principles._judge_c2(threads(minilm, digits))
    assert finding.outcome == outcome, finding.evidence
    assert f"at best {minilm:.2f}×" in finding.evidence


def isa(slowdown: float) -> dict:
    variants = {
        "isa-native": {"info": {"simd_bits": 512}},
        "isa-avx2": {"info": {"simd_bits": 256}},
        "isa-sse": {"info": {"simd_bits": 128}},
    }
    return {
        f"isa/{w}": result(f"isa/{w}", w, variants, [(B1, {"isa-avx2": 1.0, "isa-sse": 1 / slowdown})])
        for w in ("minilm", "digits-cnn")
    }


@pytest.mark.parametrize(
    ("cores", "simd", "outcome"),
    [(1.5, 1.0, "holds"), (1.5, 2.0, "partly"), (1.0, 2.0, "does-not-hold"), (1.0, 1.0, "not-measurable")],
)
def test_c4(cores, simd, outcome):
    finding = principles._judge_c4({**threads(cores, cores), **isa(simd)})
    assert finding.outcome == outcome, finding.evidence
    assert "512-bit" in finding.evidence and "128 位" in finding.evidence_zh


@pytest.mark.parametrize(
    ("resnet", "digits", "outcome"),
    [((1.3, 1.2), (1.15,), "holds"), ((1.3, 0.9), (1.0,), "partly"), ((1.0, 0.9), (1.05,), "does-not-hold")],
)
def test_c5(resnet, digits, outcome):
    variants = {"contiguous": {}, "channels-last": {"info": {"max_abs_diff_vs_contiguous": 1e-6}}}
    found = {
        "layout/resnet50": result(
            "layout/resnet50",
            "resnet50",
            variants,
            [({"batch": b}, {"channels-last": s}) for b, s in zip((1, 8), resnet, strict=True)],
        ),
        "layout/digits-cnn": result(
            "layout/digits-cnn", "digits-cnn", variants, [(B1, {"channels-last": s}) for s in digits]
        ),
    }
    assert principles._judge_c5(found).outcome == outcome


@pytest.mark.parametrize(
    ("speed", "accuracy", "outcome"),
    [(1.5, 0.975, "holds"), (1.5, 0.90, "partly"), (1.1, 0.975, "partly"), (1.1, 0.90, "does-not-hold")],
)
def test_c8(speed, accuracy, outcome):
    variants = {
        "pytorch-eager": {
            "info": {"params": 10_000, "flops_per_image": 50_000},
            "quality": {"accuracy": 0.98},
        },
        "width-4": {"info": {"params": 2_000, "flops_per_image": 10_000}, "quality": {"accuracy": accuracy}},
    }
    found = {
        "model-size/digits-cnn": result(
            "model-size/digits-cnn", "digits-cnn", variants, [(B1, {"width-4": speed})]
        )
    }
    assert principles._judge_c8(found).outcome == outcome


def curve(reaches_at: int, final: float) -> list[tuple[int, float, float, float]]:
    """(step, seconds, test accuracy, accuracy on new digits): the target 0.9 reached at a step."""
    return [(step, step / 100, 0.5 if step < reaches_at else final, 0.5) for step in range(0, 101, 10)]


@pytest.mark.parametrize(
    ("tuned_at", "tuned_final", "outcome"),
    [(30, 0.95, "holds"), (70, 0.95, "partly"), (100, 0.85, "does-not-hold")],
)
def test_c9(tuned_at, tuned_final, outcome):
    def record(at: int, final: float) -> dict:
        return {
            "info": {
                "curve": curve(at, final),
                "final_test_accuracy": final,
                "final_test_accuracy_new_digits": final,
                "steps": 100,
            }
        }

    variants = {"scratch": record(80, 0.9), "pretrained": record(tuned_at, tuned_final)}
    found = {
        "pretrained/digits-cnn": result(
            "pretrained/digits-cnn", "digits-cnn", variants, [(B1, {"pretrained": 1.0})]
        )
    }
    assert principles._judge_c9(found).outcome == outcome


@pytest.mark.parametrize(
    ("speed", "cosine", "outcome"),
    [
        (1.5, 0.9999, "holds"),
        (1.1, 0.9999, "partly"),
        (1.0, 0.9999, "does-not-hold"),
        (1.5, 0.9, "does-not-hold"),
    ],
)
def test_c11(speed, cosine, outcome):
    same = {"cosine_mean": 1.0, "nn_top1_agreement": 1.0, "topic_map_ratio": 1.0}
    variants = {
        "pad-max-length": {"quality": same, "info": {"padding_fraction_by_batch": {"1": 0.8}}},
        "pad-longest": {
            "quality": {
                "cosine_mean": cosine,
                "nn_top1_agreement": 1.0 if cosine > 0.99 else 0.5,
                "topic_map_ratio": 1.0 if cosine > 0.99 else 0.5,
            },
            "info": {"tokenizer_share_by_batch": {"1": {"tokenize_share": 0.1}}, "share_max_length": 128},
        },
    }
    found = {
        "inputs/minilm": result(
            "inputs/minilm", "minilm", variants, [({"batch": 1, "seq_len": 128}, {"pad-longest": speed})]
        )
    }
    finding = methods.judge_c11(found)
    assert finding.outcome == outcome, finding.evidence


def test_a_verdict_whose_interval_straddles_its_threshold_is_inconclusive():
    from benchmarks.claims import Verdict, decide

    c2 = Verdict("C2", ("threads/minilm", "threads/digits-cnn"), "rule", "规则", principles._judge_c2)

    def with_interval(width: float) -> dict:
        found = threads(1.6, 1.6)
        for res in found.values():
            for entry in res.points:
                figure = entry["variants"]["threads-2"]["speedup"]
                figure.update(ci_low=figure["median"] - width, ci_high=figure["median"] + width)
        return found

    assert decide(c2, with_interval(0.05)).outcome == "holds"  # 1.55-1.65, all above 1.5
    finding = decide(c2, with_interval(0.2))  # 1.4-1.8 straddles 0.75 x 2 threads
    assert finding.outcome == "inconclusive"
    assert "“partly” at the low ends" in finding.evidence and "「部分成立」" in finding.evidence_zh
