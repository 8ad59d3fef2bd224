"""The answer first: the home page's start-here steps, the decision aid, human workload names and
the folded machine card, rendered from synthetic results in both languages."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from benchmarks import results
from benchmarks.report import MarkerError, Renderer, download_links
from benchmarks.results import ExperimentResult
from benchmarks.techniques.recipes import CANDIDATE, PEER

MINILM = {"batch": 1, "seq_len": 128}
EXACT = {"cosine_mean": 1.0, "nn_top1_agreement": 1.0, "topic_map_ratio": 1.0}
NEAR = {"cosine_mean": 0.995, "nn_top1_agreement": 0.97, "topic_map_ratio": 0.995}
LOSSY = {"cosine_mean": 0.95, "nn_top1_agreement": 0.6, "topic_map_ratio": 0.9}
CARD = {
    "machine_id": "m1",
    "cpu": "Test CPU",
    "arch": "x86_64",
    "isa": ["AVX-512 VNNI", "AVX-512F", "AVX2"],
    "logical_cores": 4,
    "memory_gib": 8.0,
    "os": "Linux",
    "python": "3.12",
    "packages": {"torch": "2.0"},
    "commit": "abc",
    "date": "2026-01-01",
}
ARM_CARD = CARD | {"machine_id": "m2", "arch": "aarch64", "isa": ["NEON"]}


def stored(
    name: str,
    workload: str,
    points: dict[tuple[tuple[str, int], ...], dict[str, float]],
    quality: dict[str, dict[str, Any]],
    roles: dict[str, str] | None = None,
    info: dict[str, dict[str, Any]] | None = None,
    card: dict[str, Any] = CARD,
) -> ExperimentResult:
    """A stored result against PyTorch eager FP32: each point's speedups, each variant's quality
    (the baseline's is exact), a role for the recipes experiments and an ``info`` record."""
    names = ["pytorch-eager", *quality]
    entries = []
    for params, speedups in points.items():
        rows = {}
        for variant in names:
            speed = speedups.get(variant, 1.0)
            rows[variant] = {
                "latency": {"p50": 10.0 / speed, "p90": 11.0 / speed, "count": 100},
                "throughput_per_s": 100.0 * speed,
                "round_medians": [10.0 / speed] * 6,
            }
            if variant != "pytorch-eager":
                rows[variant]["speedup"] = {
                    "median": speed,
                    "ci_low": speed * 0.9,
                    "ci_high": speed * 1.1,
                    "confidence": 0.969,
                }
        entries.append({"params": dict(params), "variants": rows})
    base = EXACT | {"accuracy": 0.98}
    return ExperimentResult(
        experiment=name,
        status="ok",
        profile="toy",
        config={
            "technique": name.split("/")[0],
            "workload": workload,
            "baseline": "pytorch-eager",
            "threads": 2,
            "variants": [
                {
                    "name": v,
                    "label": f"label {v}",
                    "label_zh": f"标签 {v}",
                    "options": {"role": (roles or {}).get(v, PEER)} if roles else {},
                }
                for v in names
            ],
        },
        machine=dict(card),
        cache_key="k",
        variants={
            v: {"quality": base if v == "pytorch-eager" else quality[v], "info": (info or {}).get(v, {})}
            for v in names
        },
        one_time_costs={v: {"export_s": 1.0} for v in quality},
        points=entries,
    )


def key(params: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(params.items())


@pytest.fixture
def minilm_results(tmp_path):
    """MiniLM measured by the recipes, quantization and pruning pages; the CNNs not at all."""
    results.save(
        stored(
            "recipes/minilm",
            "minilm",
            {key(MINILM): {"recipe-x": 2.5, "peer-y": 2.0}},
            {"recipe-x": EXACT, "peer-y": EXACT},
            roles={"recipe-x": CANDIDATE, "peer-y": PEER},
        ),
        tmp_path,
    )
    results.save(
        stored(
            "quantization/minilm",
            "minilm",
            {
                key(MINILM): {"int8-near": 3.0, "int8-lossy": 4.0},
                key({"batch": 8, "seq_len": 128}): {"int8-near": 2.0, "int8-lossy": 2.2},
            },
            {"int8-near": NEAR, "int8-lossy": LOSSY},
            info={"int8-near": {"precision": "int8 dynamic"}, "int8-lossy": {"precision": "int8"}},
        ),
        tmp_path,
    )
    results.save(
        stored("pruning/minilm", "minilm", {key(MINILM): {"prune-lossy": 1.5}}, {"prune-lossy": LOSSY}),
        tmp_path,
    )
    return tmp_path


def steps(text: str, heading: str) -> list[str]:
    """The numbered steps under a workload's bold lead."""
    block = text.split(heading, 1)[1].split("\n\n**", 1)[0]
    return re.findall(r"^\d+\. (.*)$", block, re.MULTILINE)


def test_start_here_lists_the_steps_with_figures_and_links(minilm_results):
    renderer = Renderer(minilm_results, minilm_results / "archive")
    text, _ = renderer.render("<!-- bench:start-here -->", "en")
    engine, precision, shrink = steps(text, "**Transformer encoder**")
    # 1: the recipe, chosen by the recipes page's rule, its interval in a tooltip only.
    assert engine.startswith("**Change the engine, keep the model**: label recipe-x")
    assert (
        'title="96.9% interval [2.25, 2.75]">2.50×</abbr> the speed of PyTorch eager FP32 (faster)' in engine
    )
    assert "[recipe](recipes.md#minilm)" in engine and "[technique page](engines.md#minilm)" in engine
    assert "topic MAP, share of FP32's 100.00%" in engine
    # 2: the fastest quantization variant within the bar (not the faster one that misses it).
    assert "label int8-near" in precision and "3.00×</abbr>" in precision and "int8-lossy" not in precision
    assert "[technique page](quantization.md#minilm)" in precision
    assert "[tutorial](tutorials/quantize-minilm.md)" in precision
    # 3: nothing within the bar: said so, with the page to read.
    assert "no variant within the quality bar" in shrink and "[technique page](pruning.md#minilm)" in shrink
    # No interval printed in a sentence, and no workload id where a reader looks.
    assert "\\[" not in text and "MiniLM-L6 sentence encoder" in text
    assert not re.search(r"(?<![/#`-])\bminilm\b(?![/.`])", text.replace("recipes.md#minilm", ""))
    # Workloads without results say so.
    assert "**Small CNN**: digits CNN (batch 1): not measured in this build" in text
    assert "**Large CNN**: ResNet-50 (batch 1): not measured in this build" in text
    assert {"recipes/minilm", "quantization/minilm"} <= renderer.used


def test_start_here_in_chinese(minilm_results):
    text, _ = Renderer(minilm_results, minilm_results / "archive").render("<!-- bench:start-here -->", "zh")
    engine, precision, shrink = steps(text, "**Transformer 编码器**")
    assert engine.startswith("**换推理引擎,模型不变**:标签 recipe-x")
    assert "速度为 PyTorch eager FP32 的" in engine and "2.50×</abbr>(更快)" in engine
    assert "[推荐方案](recipes.md#minilm)" in engine and "[技术页](engines.md#minilm)" in engine
    assert "[教程](tutorials/quantize-minilm.md)" in precision
    assert "本次构建中" in shrink
    assert "**小型 CNN**:手写数字 CNN(批大小 1):本次构建未测量" in text
    assert "配方" not in text


def test_start_here_without_results_says_not_measured(tmp_path):
    renderer = Renderer(tmp_path, tmp_path / "archive")
    en, _ = renderer.render("<!-- bench:start-here -->", "en")
    zh, _ = renderer.render("<!-- bench:start-here -->", "zh")
    assert en.count("not measured in this build") == 3 and "</abbr>" not in en
    assert zh.count("本次构建未测量") == 3
    with pytest.raises(MarkerError):
        renderer.render("<!-- bench:start-here minilm -->", "en")


def test_a_step_without_a_recipe_run_is_not_measured(tmp_path):
    results.save(
        stored("quantization/minilm", "minilm", {key(MINILM): {"int8-near": 3.0}}, {"int8-near": NEAR}),
        tmp_path,
    )
    text, _ = Renderer(tmp_path, tmp_path / "archive").render("<!-- bench:start-here -->", "en")
    engine, precision, shrink = steps(text, "**Transformer encoder**")
    assert engine == "**Change the engine, keep the model**: not measured in this build"
    assert "3.00×" in precision and shrink.endswith("not measured in this build")


def test_decide_goals_picks_the_fastest_within_each_tolerance(minilm_results):
    text, _ = Renderer(minilm_results, minilm_results / "archive").render("<!-- bench:decide goals -->", "en")
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")[1:] for line in text.splitlines() if "|" in line
    }
    exact, near, anything = rows["MiniLM-L6 sentence encoder: latency (one request, batch 1, seq 128)"]
    assert "label recipe-x" in exact and "2.50×" in exact
    assert "label int8-near" in near and "3.00×" in near
    assert (
        "label int8-lossy" in anything and "4.00×" in anything and "mean cosine to FP32 0.950000" in anything
    )
    # Throughput: the largest batch measured; the CNNs were not measured at all.
    throughput = rows["MiniLM-L6 sentence encoder: throughput (largest batch measured, batch 8, seq 128)"]
    assert throughput[0] == "-" and "label int8-near" in throughput[1] and "2.20×" in throughput[2]
    assert rows["digits CNN: latency (one request, batch 1)"][0] == "not measured in this build"
    assert "ResNet-50: throughput (only one request at a time measured)" in rows
    zh, _ = Renderer(minilm_results, minilm_results / "archive").render("<!-- bench:decide goals -->", "zh")
    assert "MiniLM-L6 句向量编码器:延迟(单个请求,批大小 1, 序列 128)" in zh and "本次构建未测量" in zh


def test_decide_cpu_names_only_what_the_card_lists(minilm_results):
    renderer = Renderer(minilm_results, minilm_results / "archive")
    text, _ = renderer.render("<!-- bench:decide cpu -->", "en")
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")[1:] for line in text.splitlines() if "|" in line
    }
    assert rows["VNNI"][0] == "listed (AVX-512 VNNI)" and "label int8-near" in rows["VNNI"][2]
    assert rows["AMX"][0] == "not listed" and rows["AMX"][2].startswith("not measured on this machine")
    assert rows["Arm"][2].startswith("not measured on this machine")
    # On an Arm card, the x86 features are not measured on this machine and Arm has a figure.
    for path in minilm_results.glob("*.json"):
        result = results.load(path)
        results.save(dataclasses.replace(result, machine=dict(ARM_CARD)), minilm_results)
    text, _ = Renderer(minilm_results, minilm_results / "archive").render("<!-- bench:decide cpu -->", "zh")
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")[1:] for line in text.splitlines() if "|" in line
    }
    for feature in ("AVX-512", "VNNI", "AMX", "BF16"):
        assert rows[feature][0] == "未列出" and rows[feature][2].startswith("本机未测量"), feature
    assert rows["Arm"][0] == "列出(NEON, aarch64)" and "×</abbr>" in rows["Arm"][2]
    with pytest.raises(MarkerError):
        renderer.render("<!-- bench:decide nope -->", "en")


def test_headline_and_comparison_show_human_workload_names(minilm_results):
    text, _ = Renderer(minilm_results, minilm_results / "archive").render(
        "<!-- bench:headline -->\n<!-- bench:comparison -->", "en"
    )
    assert "| MiniLM-L6 sentence encoder |" in text and "| minilm |" not in text
    zh, _ = Renderer(minilm_results, minilm_results / "archive").render("<!-- bench:headline -->", "zh")
    assert "| MiniLM-L6 句向量编码器 |" in zh


def test_machine_card_and_results_files_are_folded(minilm_results):
    renderer = Renderer(minilm_results, minilm_results / "archive")
    text, _ = renderer.render("<!-- bench:machine -->", "en")
    assert text.strip().startswith('??? info "Machine card: Test CPU (x86_64)"') and renderer.machine_shown
    assert "\n    | Machine | m1 |" in text
    zh, _ = renderer.render("<!-- bench:machine -->", "zh")
    assert zh.strip().startswith('??? info "机器信息卡:Test CPU(x86_64)"')
    files = download_links({"recipes/minilm"}, "en", "../")
    assert '??? info bench-downloads "Results files' in files
    assert '    - <code>recipes/minilm</code>: <a href="../results/recipes__minilm.json">JSON</a>' in files


def test_verdict_evidence_names_workloads_as_a_reader_knows_them():
    from benchmarks.report.strings import human_names

    text = "digits-cnn (batch 1): 1.2×; minilm: 3.78× (engines/minilm); `resnet50`"
    assert human_names(text, "en") == (
        "digits CNN (batch 1): 1.2×; MiniLM-L6 sentence encoder: 3.78× (engines/minilm); `resnet50`"
    )
    assert human_names("digits-cnn(批大小 1)", "zh") == "手写数字 CNN(批大小 1)"
