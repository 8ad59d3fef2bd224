"""The build against itself (bench:consistency), the per-workload comparison table, the
headline's runner-up, and tail percentiles shown only where the sample supports them."""

from __future__ import annotations

import pytest

from benchmarks import results, summary
from benchmarks.claims import overview
from benchmarks.harness import tail_figure
from benchmarks.report import MarkerError, Renderer
from tests.synthetic import COSINE_OK, synthetic

REF = {"batch": 1, "seq_len": 128}


def _with_p50(result, variant: str, p50: float, count: int | None = None):
    latency = result.points[0]["variants"][variant]["latency"]
    latency["p50"] = p50
    if count is not None:
        latency |= {"count": count, "max": p50 * 1.5}
    return result


def _eager_three_times(tmp_path):
    """PyTorch eager MiniLM at the reference point in three experiments: 24, 26, 30 ms."""
    stored = {
        "onnxruntime/minilm": synthetic(
            "onnxruntime/minilm", "minilm", REF, {"onnxruntime": (1.4, COSINE_OK)}
        ),
        "quantization/minilm": synthetic(
            "quantization/minilm",
            "minilm",
            REF,
            {"onnxruntime": (6.0, COSINE_OK), "ort-int8-dynamic": (2.0, COSINE_OK)},
        ),
        "engines/minilm": synthetic("engines/minilm", "minilm", REF, {"openvino-f32": (1.9, COSINE_OK)}),
    }
    for name, p50 in zip(stored, (24.0, 26.0, 30.0), strict=True):
        _with_p50(stored[name], "pytorch-eager", p50)
        results.save(stored[name], tmp_path)
    return stored


def test_consistency_groups_one_configuration_across_experiments(tmp_path):
    stored = _eager_three_times(tmp_path)
    repeats = summary.consistency(stored)
    eager = next(r for r in repeats if r.variant == "pytorch-eager")
    assert eager.p50_ms == {"onnxruntime/minilm": 24.0, "quantization/minilm": 26.0, "engines/minilm": 30.0}
    assert eager.spread == pytest.approx(0.25)
    # ONNX Runtime FP32 in two experiments (same builder and options) is a second group
    ort = next(r for r in repeats if r.variant == "onnxruntime")
    assert set(ort.p50_ms) == {"onnxruntime/minilm", "quantization/minilm"}
    assert repeats[0].spread >= repeats[-1].spread
    assert summary.p50_spread(stored) == pytest.approx(statistics_median([r.spread for r in repeats]))
    # the paired speedups over each experiment's own eager baseline: 1.4x and 6.0x
    assert ort.speedups == pytest.approx({"onnxruntime/minilm": 1.4, "quantization/minilm": 6.0})
    assert ort.speedup_spread == pytest.approx(6.0 / 1.4 - 1)
    assert eager.speedups == {} and eager.speedup_spread is None  # the baseline has no speedup over itself
    # verdicts compare speedups: the build's resolution is the speedups' spread
    assert summary.build_spread(stored) == pytest.approx(summary.speedup_spread(stored))
    # a 5% difference hinges on noise when the build disagrees with itself by more
    assert summary.within_build_spread(1.05, 1.0, stored)
    assert not summary.within_build_spread(100.0, 1.0, stored)
    with pytest.raises(ValueError):
        summary.within_build_spread(0.0, 1.0, stored)


def statistics_median(values):
    import statistics

    return statistics.median(values)


def test_consistency_marker_renders_in_both_languages_and_rejects_arguments(tmp_path):
    _eager_three_times(tmp_path)
    renderer = Renderer(tmp_path, tmp_path / "archive")
    en, _ = renderer.render("<!-- bench:consistency -->", "en")
    assert "25.0%" in en and "`onnxruntime/minilm` 24" in en and "configurations" in en
    assert "`onnxruntime/minilm` 1.4×" in en and f"{6.0 / 1.4 - 1:.1%}" in en  # the paired speedups
    zh, _ = renderer.render("<!-- bench:consistency -->", "zh")
    assert "25.0%" in zh and "差异" in zh and "成对加速比" in zh
    with pytest.raises(MarkerError, match="takes no argument"):
        renderer.render("<!-- bench:consistency minilm -->", "en")
    empty, _ = Renderer(tmp_path / "none", tmp_path / "archive").render("<!-- bench:consistency -->", "en")
    assert "No configuration was timed twice" in empty


def test_comparison_shows_each_workload_and_only_the_techniques_own_variants(tmp_path, monkeypatch):
    _eager_three_times(tmp_path)
    results.save(
        synthetic(
            "onnxruntime/digits-cnn", "digits-cnn", {"batch": 1}, {"onnxruntime": (8.66, {"accuracy": 0.98})}
        ),
        tmp_path,
    )
    monkeypatch.setattr(Renderer, "finding", lambda self, claim: (None, ["x"], []))
    text, _ = Renderer(tmp_path, tmp_path / "archive").render("<!-- bench:comparison -->", "en")
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert any("1.40×" in r and "MiniLM-L6" in r for r in rows) and any("8.66×" in r for r in rows)
    quant = next(r for r in rows if "Quantization" in r)
    # the FP32 ONNX Runtime comparator (6.00×) is no quantization variant
    assert "2.00×" in quant and "6.00×" not in quant and "MiniLM-L6" in quant
    assert "6.00×" not in text


def test_headline_counts_candidates_and_shows_the_runner_up(tmp_path):
    _eager_three_times(tmp_path)
    text, _ = Renderer(tmp_path, tmp_path / "archive").render("<!-- bench:headline -->", "en")
    minilm = next(line for line in text.splitlines() if line.startswith("| MiniLM-L6 sentence encoder"))
    assert "**6.00×**" in minilm and "4 within the bar, of 4" in minilm
    assert "ort-int8-dynamic (`quantization/minilm`) 2.00×" in minilm and "200.0% behind" in minilm
    assert "runner-up" in text and "fastest of the candidates" in text


def test_tail_percentiles_need_their_calls_on_pages(tmp_path):
    stored = synthetic(
        "onnxruntime/digits-cnn", "digits-cnn", {"batch": 1}, {"onnxruntime": (2.0, COSINE_OK)}
    )
    _with_p50(stored, "onnxruntime", 5.0, count=12)
    results.save(stored, tmp_path)
    renderer = Renderer(tmp_path, tmp_path / "archive")
    p99, _ = renderer.render("<!-- bench:figure onnxruntime/digits-cnn:onnxruntime:p99@batch=1 -->", "en")
    assert "no p99: 12 calls measured, 100 needed" in p99
    table, _ = renderer.render("<!-- bench:table onnxruntime/digits-cnn -->", "en")
    assert "– (n=12 < 20)" in table and "calls (n)" in table


def test_c3_is_judged_on_the_tail_the_sample_supports():
    def latency(count: int) -> dict:
        return {"count": count, "p50": 10.0, "p90": 50.0, "p99": 150.0, "max": 80.0}

    assert tail_figure(latency(12)) == ("max", 80.0, 12)
    assert tail_figure(latency(40)) == ("p90", 50.0, 40)
    assert tail_figure(latency(200)) == ("p99", 150.0, 200)


def test_c1_says_when_its_deciding_gap_is_within_the_builds_spread():
    stored = {
        "onnxruntime/minilm": synthetic(
            "onnxruntime/minilm", "minilm", REF, {"onnxruntime": (1.55, COSINE_OK)}
        ),
        "quantization/minilm": synthetic(
            "quantization/minilm", "minilm", REF, {"onnxruntime": (1.2, COSINE_OK)}
        ),
    }
    _with_p50(stored["onnxruntime/minilm"], "pytorch-eager", 24.0)
    _with_p50(stored["quantization/minilm"], "pytorch-eager", 30.0)  # the build disagrees by 25%
    finding = overview.judge_c1(stored)
    assert "1.55×" in finding.evidence and "within this build's own spread" in finding.evidence
    assert "离散程度" in finding.evidence_zh


def test_own_variants_leave_out_comparators_and_controls():
    from benchmarks.experiments import all_experiments
    from benchmarks.techniques.onnxruntime import ORT_ALL, PYTORCH_EAGER
    from benchmarks.techniques.quantization import ORT_DYNAMIC

    own = summary.is_own_variant
    assert own("quantization/minilm", ORT_DYNAMIC.name)
    assert not own("quantization/minilm", ORT_ALL.name)  # the FP32 ONNX Runtime comparator
    assert not own("quantization/minilm", PYTORCH_EAGER.name)
    assert own("onnxruntime/minilm", ORT_ALL.name)
    controls = [
        (name, v.name)
        for name, exp in all_experiments().items()
        for v in exp.variants
        if v.options.get("distil") is False
    ]
    assert controls and not any(own(*c) for c in controls)  # students trained without the teacher
    assert own("not/declared", "anything")
