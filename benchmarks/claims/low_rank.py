"""The low-rank page's rule (T4): does factorising a model add arithmetic, as the article says?"""

from __future__ import annotations

from typing import Any

from benchmarks.claims import Finding, Verdict, info, quality, speedups

SLOWER_THAN = 0.95  # a speedup below this counts as measurably slower than the original
QUALITY_KEY = {"digits-cnn": "accuracy", "minilm": "cosine_mean", "resnet50": "cosine_mean"}


def _point_text(params: dict[str, int], zh: bool) -> str:
    names = {"batch": "批", "seq_len": "序列", "image_size": "图像"} if zh else {}
    names = {"batch": "batch", "seq_len": "seq", "image_size": "image", **names}
    return ", ".join(f"{names.get(k, k)} {v}" for k, v in params.items())


def _quality_text(workload: str, value: float, original: float, zh: bool) -> str:
    if workload == "digits-cnn":
        return (
            f"准确率 {value:.1%}(原模型 {original:.1%})"
            if zh
            else f"accuracy {value:.1%} (original {original:.1%})"
        )
    text = f"余弦 {value:.4f}" if zh else f"cosine {value:.4f}"
    if workload == "resnet50":
        text += "(随机权重)" if zh else " (random weights)"
    return text


def judge_complexity(results: dict[str, Any]) -> Finding:
    """T4: FLOPs ratio and paired speedup of every factorised variant, with its quality alongside."""
    rows = []
    for name in LOW_RANK_EXPERIMENTS:
        result = results[name]
        workload = result.config["workload"]
        baseline = result.config["baseline"]
        key = QUALITY_KEY[workload]
        original_quality = quality(result, baseline)[key]
        for variant in result.variants:
            if variant in (baseline, "_error"):
                continue
            record = info(result, variant)
            measured = speedups(result, variant)
            slowest = min(measured, key=lambda pair: pair[1])
            rows.append(
                {
                    "experiment": name,
                    "variant": variant,
                    "workload": workload,
                    "flops_ratio": record["flops_ratio"],
                    "params_ratio": record["params_ratio"],
                    "speedup_min": slowest[1],
                    "slowest_at": slowest[0],
                    "speedup_max": max(value for _, value in measured),
                    "quality": quality(result, variant)[key],
                    "original_quality": original_quality,
                }
            )
    if not rows:
        return Finding("not-measurable", "no factorised variant was measured", "没有测得任何分解变体")
    fewer = [r for r in rows if r["flops_ratio"] < 1]
    more = [r for r in rows if r["flops_ratio"] > 1]
    slower = [r for r in rows if r["speedup_min"] < SLOWER_THAN]
    if len(more) * 2 >= len(rows):
        outcome = "holds"
    elif len(fewer) == len(rows) and not slower:
        outcome = "does-not-hold"
    else:
        outcome = "partly"
    low = min(r["flops_ratio"] for r in rows)
    high = max(r["flops_ratio"] for r in rows)
    worst = min(rows, key=lambda r: r["speedup_min"])
    worst_en, worst_zh = _point_text(worst["slowest_at"], False), _point_text(worst["slowest_at"], True)
    en = (
        f"{len(fewer)} of {len(rows)} factorised variants need fewer FLOPs than the original "
        f"(FLOPs ratio {low:.2f} to {high:.2f}); {len(slower)} of them run more than "
        f"{1 - SLOWER_THAN:.0%} slower than the original at some point. Lowest speedup: "
        f"{worst['speedup_min']:.2f}× (`{worst['variant']}` in `{worst['experiment']}`, {worst_en})."
    )
    zh = (
        f"{len(rows)} 个分解变体中有 {len(fewer)} 个的 FLOPs 少于原模型"
        f"(FLOPs 比 {low:.2f} 至 {high:.2f});其中 {len(slower)} 个在某个测量点"
        f"比原模型慢 {1 - SLOWER_THAN:.0%} 以上。最低加速比:{worst['speedup_min']:.2f}×"
        f"(`{worst['experiment']}` 的 `{worst['variant']}`,{worst_zh})。"
    )
    header_en = "| experiment | variant | params | FLOPs | speedup | quality |"
    header_zh = "| 实验 | 变体 | 参数量 | FLOPs | 加速比 | 质量 |"
    lines_en, lines_zh = [header_en, "|---|---|---|---|---|---|"], [header_zh, "|---|---|---|---|---|---|"]
    for r in rows:
        cells = (
            f"| `{r['experiment']}` | `{r['variant']}` | ×{r['params_ratio']:.2f} | ×{r['flops_ratio']:.2f} "
            f"| {r['speedup_min']:.2f}–{r['speedup_max']:.2f}× |"
        )
        lines_en.append(
            f"{cells} {_quality_text(r['workload'], r['quality'], r['original_quality'], False)} |"
        )
        lines_zh.append(
            f"{cells} {_quality_text(r['workload'], r['quality'], r['original_quality'], True)} |"
        )
    note_en = (
        "Params and FLOPs are ratios to the original model (FLOPs at batch 1); "
        "speedup is the range of median paired speedups over the measured points."
    )
    note_zh = (
        "参数量与 FLOPs 为相对原模型的比值(FLOPs 按批大小 1 计);加速比为各测量点成对加速比中位数的范围。"
    )
    return Finding(
        outcome,
        en + "\n\n" + "\n".join(lines_en) + "\n\n" + note_en,
        zh + "\n\n" + "\n".join(lines_zh) + "\n\n" + note_zh,
    )


LOW_RANK_EXPERIMENTS = ("low-rank/minilm", "low-rank/digits-cnn", "low-rank/resnet50")

VERDICTS = [
    Verdict(
        claim="T4",
        experiments=LOW_RANK_EXPERIMENTS,
        rule=(
            "For every factorised variant of the three low-rank experiments, the FLOPs ratio is the "
            "factorised model's FLOPs over the original's, counted by PyTorch's FLOP counter at batch 1 "
            "(MiniLM: 128 tokens; ResNet-50: 224×224), and its speedup is the median paired speedup over "
            "PyTorch eager at each measured point. The claim that computational complexity increases "
            "**holds** if at least half of the variants have a FLOPs ratio above 1; it **does not hold** if "
            "every variant has a FLOPs ratio below 1 and none is slower than the original by more than 5% "
            "(speedup below 0.95) at any point; otherwise it **partly holds**. Parameters and quality "
            "(digits test accuracy; MiniLM and ResNet-50 cosine to the original's outputs, ResNet-50 with "
            "random weights) are stated next to each variant."
        ),
        rule_zh=(
            "对三个低秩实验中的每个分解变体:FLOPs 比 = 分解后模型的 FLOPs ÷ 原模型的 FLOPs,"
            "用 PyTorch 的 FLOP 计数器在批大小 1 下统计(MiniLM:128 个词元;ResNet-50:224×224);"
            "加速比为各测量点上相对 PyTorch eager 的成对加速比中位数。若至少一半变体的 FLOPs 比大于 1,"
            "「计算复杂度增加」**成立**;若所有变体的 FLOPs 比都小于 1,"
            "且没有任何变体在任何测量点比原模型慢 5% 以上(加速比低于 0.95),则**不成立**;"
            "其余情况为**部分成立**。每个变体旁同时列出参数量与质量"
            "(手写数字测试准确率;MiniLM 与 ResNet-50 为与原模型输出的余弦相似度,ResNet-50 为随机权重)。"
        ),
        judge=judge_complexity,
    )
]
