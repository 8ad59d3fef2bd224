"""Across-experiment rendering: best-within-bar selection, verdicts, inline figures, skips."""

from __future__ import annotations

import dataclasses

import pytest

from benchmarks import results, summary
from benchmarks.claims import Finding, Verdict
from benchmarks.experiments import PROFILES, Experiment, VariantSpec
from benchmarks.report import MarkerError, Renderer
from benchmarks.runner import run_all, state
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER
from tests.synthetic import COSINE_OK, synthetic


def test_best_is_the_fastest_variant_that_meets_the_quality_bar():
    ref = {"batch": 1, "seq_len": 128}
    stored = {
        "a/minilm": synthetic(
            "a/minilm",
            "minilm",
            ref,
            {
                "fast-but-wrong": (
                    3.0,
                    {"cosine_mean": 0.95, "nn_top1_agreement": 0.99, "topic_map_ratio": 1.0},
                ),
                "good": (1.5, COSINE_OK),
            },
        ),
        "b/minilm": synthetic("b/minilm", "minilm", ref, {"slower": (1.2, COSINE_OK)}),
        # Another point or another baseline never competes at the reference point.
        "c/minilm": synthetic("c/minilm", "minilm", {"batch": 8, "seq_len": 128}, {"big": (9.0, COSINE_OK)}),
        "d/minilm": synthetic("d/minilm", "minilm", ref, {"x": (8.0, COSINE_OK)}, baseline="one-thread"),
    }
    found = summary.candidates(stored, "minilm")
    assert sorted(c.variant for c in found) == ["fast-but-wrong", "good", "slower"]
    assert summary.best(found).variant == "good"
    assert summary.best(found, within_bar=False).variant == "fast-but-wrong"
    assert summary.best([c for c in found if c.variant == "fast-but-wrong"]) is None


def test_digits_bar_is_relative_to_the_baseline_accuracy():
    stored = {
        "a/digits-cnn": synthetic(
            "a/digits-cnn",
            "digits-cnn",
            {"batch": 1},
            {"ok": (2.0, {"accuracy": 0.975}), "bad": (4.0, {"accuracy": 0.96})},
        )
    }
    assert summary.best(summary.candidates(stored, "digits-cnn")).variant == "ok"


def _verdict(judge):
    return {"X1": Verdict("X1", ("onnxruntime/digits-cnn",), "rule in English", "中文规则", judge)}


def test_verdict_renders_the_judges_finding_with_its_rule(tmp_path, monkeypatch):
    results.save(
        synthetic("onnxruntime/digits-cnn", "digits-cnn", {"batch": 1}, {"onnxruntime": (2.0, COSINE_OK)}),
        tmp_path,
    )

    def judge(found):
        s = found["onnxruntime/digits-cnn"].points[0]["variants"]["onnxruntime"]["speedup"]["median"]
        return Finding("holds", f"{s:.1f}x faster", f"快 {s:.1f} 倍")

    monkeypatch.setattr("benchmarks.claims.all_verdicts", lambda: _verdict(judge))
    renderer = Renderer(tmp_path, tmp_path / "archive")
    en, _ = renderer.render("<!-- bench:verdict X1 -->", "en")
    assert 'id="claim-x1"' in en and "rule in English" in en and "holds" in en and "2.0x faster" in en
    zh, _ = renderer.render("<!-- bench:verdict X1 -->", "zh")
    assert "中文规则" in zh and "成立" in zh and "快 2.0 倍" in zh
    with pytest.raises(MarkerError, match="no verdict"):
        renderer.render("<!-- bench:verdict NOPE -->", "en")


def test_verdict_without_results_is_pending_and_never_judged(tmp_path, monkeypatch):
    def judge(found):
        raise AssertionError("a judge must not run without its results")

    monkeypatch.setattr("benchmarks.claims.all_verdicts", lambda: _verdict(judge))
    text, _ = Renderer(tmp_path, tmp_path / "archive").render("<!-- bench:verdict X1 -->", "en")
    assert "Verdict pending" in text


def test_verdict_over_results_from_older_pipelines_waits_for_a_rerun(tmp_path, monkeypatch):
    results.save(
        synthetic("onnxruntime/digits-cnn", "digits-cnn", {"batch": 1}, {"onnxruntime": (2.0, COSINE_OK)}),
        tmp_path,
    )

    def judge(found):
        return Finding(
            "holds", str(found["onnxruntime/digits-cnn"].variants["onnxruntime"]["quality"]["topic_map"]), ""
        )

    monkeypatch.setattr("benchmarks.claims.all_verdicts", lambda: _verdict(judge))
    renderer = Renderer(tmp_path, tmp_path / "archive")
    en, _ = renderer.render("<!-- bench:verdict X1 -->", "en")
    assert "Verdict pending" in en and "older" in en and "topic_map" in en
    zh, _ = renderer.render("<!-- bench:verdict X1 -->", "zh")
    assert "判定待定" in zh and "旧版" in zh


def test_latest_skipped_run_is_noticed_beside_the_good_result(tmp_path, monkeypatch):
    good = synthetic("onnxruntime/digits-cnn", "digits-cnn", {"batch": 1}, {"onnxruntime": (2.0, COSINE_OK)})
    results.save(good, tmp_path)
    results.save(dataclasses.replace(good, status="skipped", reason="no <b>GPU</b>", points=[]), tmp_path)
    monkeypatch.setattr(
        "benchmarks.claims.all_verdicts", lambda: _verdict(lambda found: Finding("holds", "fine", "好"))
    )
    renderer = Renderer(tmp_path, tmp_path / "archive")
    en, _ = renderer.render("<!-- bench:verdict X1 -->\n<!-- bench:table onnxruntime/digits-cnn -->", "en")
    assert en.count("The latest run was skipped") == 2 and "no &lt;b&gt;GPU&lt;/b&gt;" in en
    assert "holds" in en and "<b>GPU" not in en


def test_skipped_experiment_is_recorded_with_its_reason_and_shown(tmp_path, monkeypatch, cache_dir):
    gpu_only = Experiment(
        name="test/gpu-only",
        technique="test",
        workload="digits-cnn",
        variants=(PYTORCH_EAGER, VariantSpec("gpu", "gpu", "gpu", "tests.fake_variants:build_raising")),
        grids={name: ({"batch": 1},) for name in PROFILES},
        requires="tests.fake_variants:missing_gpu",
    )
    outcomes = run_all([gpu_only], PROFILES["toy"], tmp_path, progress=lambda _: None)
    assert outcomes[0][1] == "skipped"
    stored, _ = results.load_experiment("test/gpu-only", tmp_path)
    assert stored.status == "skipped" and "no NVIDIA GPU" in stored.reason and not stored.points
    assert state(gpu_only, PROFILES["toy"], stored.machine, tmp_path)[0] == "skipped"


def test_inline_figures_come_from_the_results(tmp_path):
    results.save(
        synthetic(
            "onnxruntime/digits-cnn", "digits-cnn", {"batch": 1}, {"onnxruntime": (2.0, {"accuracy": 0.9844})}
        ),
        tmp_path,
    )
    renderer = Renderer(tmp_path, tmp_path / "archive")
    page = (
        "<!-- bench:figure onnxruntime/digits-cnn:onnxruntime:speedup@batch=1 --> / "
        "<!-- bench:figure onnxruntime/digits-cnn:onnxruntime:accuracy --> / "
        "<!-- bench:figure onnxruntime/digits-cnn:onnxruntime:export_s --> / "
        "<!-- bench:figure onnxruntime/digits-cnn:onnxruntime:p50@batch=1 -->"
    )
    text, _ = renderer.render(page, "en")
    assert r"2.00× \[1.96, 2.04\]" in text and "98.44%" in text and "1.50 s" in text and "5 ms" in text
    # A point this profile's grid does not reach is said so; a misspelt axis is an error.
    marker = "<!-- bench:figure onnxruntime/digits-cnn:onnxruntime:p50@batch=7 -->"
    elsewhere, _ = renderer.render(marker, "en")
    assert "not measured at batch 7" in elsewhere
    for bad in (
        "onnxruntime/digits-cnn:nope:p50@batch=1",
        "onnxruntime/digits-cnn:onnxruntime:p50@batchsize=1",
        "x",
    ):
        with pytest.raises(MarkerError):
            renderer.render(f"<!-- bench:figure {bad} -->", "en")
    missing, _ = Renderer(tmp_path / "empty", tmp_path / "archive").render(
        "<!-- bench:figure onnxruntime/minilm:onnxruntime:p50@batch=1,seq_len=128 -->", "en"
    )
    assert "not measured in this build" in missing


def test_headline_and_tradeoff_show_the_best_variant(tmp_path):
    results.save(
        synthetic(
            "onnxruntime/minilm",
            "minilm",
            {"batch": 1, "seq_len": 128},
            {"onnxruntime": (1.4, COSINE_OK), "onnxruntime-basic": (1.1, COSINE_OK)},
        ),
        tmp_path,
    )
    renderer = Renderer(tmp_path, tmp_path / "archive")
    text, charts = renderer.render("<!-- bench:headline -->\n<!-- bench:tradeoff minilm -->", "en")
    assert "1.40×" in text and "`onnxruntime/minilm`" in text and charts == 1
    with pytest.raises(MarkerError, match="unknown workload"):
        renderer.render("<!-- bench:tradeoff nope -->", "en")


def test_every_comparison_row_names_a_declared_technique():
    """A row whose technique matches no experiment would always read "not measured"."""
    from benchmarks.experiments import all_experiments
    from benchmarks.report import COMPARISON_ROWS

    declared = {exp.technique for exp in all_experiments().values()}
    assert {row[0] for row in COMPARISON_ROWS} <= declared


def test_direction_and_card_markers_render_from_the_results(tmp_path):
    card = {"isa": ["NEON"], "logical_cores": 6, "packages": {"torch": "9.1.0"}}
    faster = synthetic("onnxruntime/digits-cnn", "digits-cnn", {"batch": 1}, {"onnxruntime": (1.5, {})})
    slower = synthetic(
        "onnxruntime/minilm", "minilm", {"batch": 1, "seq_len": 128}, {"onnxruntime": (0.7, {})}
    )
    for result in (faster, slower):
        result.machine |= card
        results.save(result, tmp_path)
    renderer = Renderer(tmp_path, tmp_path / "archive")
    page = (
        "<!-- bench:direction onnxruntime/digits-cnn:onnxruntime@batch=1 --> / "
        "<!-- bench:direction onnxruntime/minilm:onnxruntime@batch=1,seq_len=128 --> / "
        "<!-- bench:card logical_cores --> / <!-- bench:card isa --> / <!-- bench:card package:torch -->"
    )
    assert renderer.render(page, "en")[0] == "faster / slower / 6 / NEON / 9.1.0"
    assert renderer.render(page, "zh")[0] == "更快 / 更慢 / 6 / NEON / 9.1.0"
    # An interval that spans 1× gives no direction.
    results.save(
        synthetic("onnxruntime/digits-cnn", "digits-cnn", {"batch": 1}, {"onnxruntime": (1.01, {})}), tmp_path
    )
    text, _ = renderer.render("<!-- bench:direction onnxruntime/digits-cnn:onnxruntime@batch=1 -->", "en")
    assert text.startswith("neither clearly faster nor slower")
    for bad in (
        "bench:direction onnxruntime/digits-cnn:nope@batch=1",
        "bench:direction onnxruntime/digits-cnn:pytorch-eager@batch=1",
        "bench:direction onnxruntime/digits-cnn:onnxruntime@batchsize=1",
        "bench:direction x",
        "bench:card gpu",
        "bench:card package:tensorrt",
    ):
        with pytest.raises(MarkerError):
            renderer.render(f"<!-- {bad} -->", "en")
