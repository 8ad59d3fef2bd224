"""Claim checks: each of the article's claims gets a verdict computed from results.

Each module of this package holds one page's rules: ``VERDICTS``, the claim's id (``T3``, ``C5`` as in
the shared claims list), the experiments it reads, the rule in both languages
(shown on the page), and a ``judge`` that reads only stored results (never
torch) and returns a ``Finding``. ``<!-- bench:verdict T3 -->`` renders it.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.results import ExperimentResult

# "inconclusive": the deciding figure's interval straddles the rule's threshold, so this
# machine's measurement cannot tell which side the claim falls on.
OUTCOMES = ("holds", "partly", "does-not-hold", "inconclusive", "not-measurable")


@dataclass(frozen=True)
class Finding:
    outcome: str = field(metadata={"help": "one of OUTCOMES"})
    evidence: str = field(metadata={"help": "English: the figures that decided it"})
    evidence_zh: str = field(metadata={"help": "Chinese twin of evidence"})

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.outcome!r}")


@dataclass(frozen=True)
class Verdict:
    claim: str
    experiments: tuple[str, ...]
    rule: str
    rule_zh: str
    judge: Callable[[dict[str, ExperimentResult]], Finding] = field(
        metadata={"help": "gets the ok results of `experiments` by name; all of them are present"}
    )


def _at_interval_end(result: ExperimentResult, end: str) -> ExperimentResult:
    """The result with every paired speedup's median moved to one end of its interval."""
    points = []
    for entry in result.points:
        rows = {}
        for name, row in entry["variants"].items():
            figure = row.get("speedup")
            if figure and end in figure:
                row = {**row, "speedup": {**figure, "median": figure[end]}}
            rows[name] = row
        points.append({**entry, "variants": rows})
    return dataclasses.replace(result, points=points)


def decide(check: Verdict, results: dict[str, ExperimentResult]) -> Finding:
    """The judge's finding, unless the measurement cannot tell: the rule is applied to the
    medians and to both ends of every speedup interval, and when the outcomes differ the
    verdict is "inconclusive", with the outcome each end would give."""
    finding = check.judge(results)
    low = check.judge({k: _at_interval_end(r, "ci_low") for k, r in results.items()}).outcome
    high = check.judge({k: _at_interval_end(r, "ci_high") for k, r in results.items()}).outcome
    if low == high == finding.outcome:
        return finding
    note_en = (
        f" Inconclusive on this machine: the rule gives “{low}” at the low ends of the speedup "
        f"intervals, “{finding.outcome}” at the medians and “{high}” at the high ends."
    )
    zh = {o: z for o, z in zip(OUTCOMES, ("成立", "部分成立", "不成立", "无法判定", "无法测量"), strict=True)}
    note_zh = (
        f"在本机上无法判定:按加速比区间的下端,规则给出「{zh[low]}」;按中位数为「{zh[finding.outcome]}」;"
        f"按区间上端为「{zh[high]}」。"
    )
    return Finding("inconclusive", finding.evidence + note_en, finding.evidence_zh + note_zh)


def claim_modules() -> list[str]:
    """Every module in ``benchmarks/claims``: a page's rules are a file."""
    import pkgutil

    return sorted(f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__))


def all_verdicts() -> dict[str, Verdict]:
    found: dict[str, Verdict] = {}
    for module_name in claim_modules():
        for verdict in getattr(importlib.import_module(module_name), "VERDICTS", ()):
            if verdict.claim in found:
                raise ValueError(f"claim {verdict.claim} is judged twice")
            found[verdict.claim] = verdict
    return found


# ---- reading results in judges ------------------------------------------------------------


def point(result: ExperimentResult, **params: int) -> dict[str, Any]:
    """The measured point with exactly these parameters (KeyError when it was not measured)."""
    for entry in result.points:
        if entry["params"] == params:
            return entry
    raise KeyError(f"{result.experiment}: no point {params}")


def p50(result: ExperimentResult, variant: str, **params: int) -> float:
    return point(result, **params)["variants"][variant]["latency"]["p50"]


def speedup(result: ExperimentResult, variant: str, **params: int) -> float:
    """Median paired speedup of ``variant`` over the experiment's baseline at one point."""
    return point(result, **params)["variants"][variant]["speedup"]["median"]


def speedup_entry(result: ExperimentResult, variant: str, **params: int) -> dict[str, Any]:
    """The stored paired speedup (median, ci_low, ci_high, confidence, rounds) at one point."""
    return point(result, **params)["variants"][variant]["speedup"]


def side_of(entry: dict[str, Any], threshold: float) -> str:
    """Where a paired speedup lies against a rule's threshold: "above" when its whole interval is
    at or above it, "below" when the whole interval is under it, "straddles" otherwise."""
    low, high = entry.get("ci_low", entry["median"]), entry.get("ci_high", entry["median"])
    if low >= threshold:
        return "above"
    if high < threshold:
        return "below"
    return "straddles"


def margin_text(entry: dict[str, Any], threshold: float, lang: str = "en") -> str:
    """The deciding figure, its interval, the threshold and the margin, for a verdict's evidence."""
    from benchmarks.harness import interval_label

    level = interval_label(entry.get("confidence"))
    low, high, median = (
        entry.get("ci_low", entry["median"]),
        entry.get("ci_high", entry["median"]),
        entry["median"],
    )
    if lang == "zh":
        return (
            f"{median:.2f}×({level} 区间 {low:.2f}–{high:.2f}),门槛 {threshold:g}×,"
            f"差距 {median - threshold:+.2f}×"
        )
    return (
        f"{median:.2f}× ({level} interval {low:.2f}–{high:.2f}), threshold {threshold:g}×, "
        f"margin {median - threshold:+.2f}×"
    )


def speedups(result: ExperimentResult, variant: str) -> list[tuple[dict[str, int], float]]:
    """(params, median paired speedup) at every measured point."""
    return [(e["params"], e["variants"][variant]["speedup"]["median"]) for e in result.points]


def quality(result: ExperimentResult, variant: str) -> dict[str, Any]:
    return result.variants[variant]["quality"]


def info(result: ExperimentResult, variant: str) -> dict[str, Any]:
    return result.variants[variant]["info"]


# The article's claims (shared/article/claims.md), shortened, and the page that judges each.
CLAIMS: dict[str, tuple[str, str, str]] = {
    "C1": (
        "CPU inference is slow, but acceleration raises its speed effectively",
        "CPU上预测较慢,但加速技术可以有效提高预测速度",
        "intro.md",
    ),
    "C2": (
        "acceleration exploits the CPU's parallelism",
        "利用CPU的并行处理能力,运行效率大大提高",
        "principles.md",
    ),
    "C3": ("GPUs dominate, yet a CPU can serve", "GPU是主要选择,但某些情况下CPU也能有效加速", "intro.md"),
    "C4": (
        "instruction-level parallelism, 'through multi-core'",
        "指令级并行:通过多核架构实现",
        "principles.md",
    ),
    "C5": (
        "memory optimisation: fewer copies, fewer cache misses",
        "内存优化:减少数据拷贝和缓存失效",
        "principles.md",
    ),
    "C6": ("algorithm optimisation for the CPU", "算法优化:针对CPU特点优化算法", "onnxruntime.md"),
    "C7": (
        "use CPU-capable frameworks (TensorFlow, PyTorch)",
        "使用支持CPU的框架(TensorFlow、PyTorch)",
        "engines.md",
    ),
    "C8": (
        "shrink the model: fewer parameters, fewer layers",
        "调整模型结构:减少参数、降低层数",
        "methods.md",
    ),
    "C9": ("pretrained models save training time", "使用预训练模型,节省训练时间", "methods.md"),
    "C10": (
        "use an inference engine (TFLite, ONNX Runtime)",
        "使用推理引擎(TensorFlow Lite、ONNX Runtime)",
        "engines.md",
    ),
    "C11": ("optimise input/output format and size", "优化输入输出数据的格式和大小", "inference.md"),
    "C12": ("cache frequent inputs and outputs", "使用缓存,减少重复计算", "inference.md"),
    "C13": (
        "for small models a CPU is enough, and cheaper",
        "小型模型和简单任务CPU可能已经足够;避免GPU成本和能耗",
        "inference.md",
    ),
    "T1": (
        "ONNX Runtime: portable; may lose a little to dedicated libraries; needs conversion",
        "ONNX Runtime:多硬件、简化部署、跨框架;略有性能损失;需要转换步骤",
        "onnxruntime.md",
    ),
    "T2": (
        "TensorRT: NVIDIA only, inference only, very fast",
        "TensorRT:仅NVIDIA GPU;只支持推理;性能非常高",
        "tensorrt.md",
    ),
    "T3": (
        "pruning: smaller, less compute; may cost accuracy",
        "参数修剪:减少大小和计算量;可能影响准确率",
        "pruning.md",
    ),
    "T4": (
        "low-rank: fewer parameters; 'computational complexity increases'",
        "低秩分解:减少参数、接近原性能;计算复杂度增加",
        "low-rank.md",
    ),
    "T5": (
        "distillation: compact student; extra training; smaller gain",
        "知识蒸馏:紧凑模型模仿大模型;需额外训练;提升可能不如其他压缩方法",
        "distillation.md",
    ),
    "Q1": (
        "(added) INT8 quantization is the strongest CPU lever",
        "(本项目补充)INT8 量化是 CPU 上最有效的手段",
        "quantization.md",
    ),
}
