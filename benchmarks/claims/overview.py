"""Claims about CPU acceleration as a whole (C1, C3), judged across techniques.

No experiments of its own: the judges read the experiments of the techniques
that compete at each workload's reference point (see ``benchmarks.summary``).
"""

from __future__ import annotations

from benchmarks import summary, workloads
from benchmarks.claims import Finding, Verdict
from benchmarks.harness import MIN_CALLS, tail_figure
from benchmarks.results import ExperimentResult

# The experiments whose variants compete for "fastest within the quality bar".
ACROSS = (
    "onnxruntime/minilm",
    "onnxruntime/digits-cnn",
    "quantization/minilm",
    "quantization/digits-cnn",
    "quantization/resnet50",
    "engines/minilm",
    "engines/digits-cnn",
    "engines/resnet50",
)
C1_SPEEDUP = 1.5
C3_BUDGET_MS = 100.0  # tail latency of one interactive request


def _best_per_workload(results: dict[str, ExperimentResult]) -> dict[str, summary.Candidate | None]:
    return {w: summary.best(summary.candidates(results, w)) for w in workloads.WORKLOADS}


def judge_c1(results: dict[str, ExperimentResult]) -> Finding:
    best = _best_per_workload(results)
    fast = [w for w, c in best.items() if c is not None and c.speedup >= C1_SPEEDUP]
    parts_en, parts_zh = [], []
    for w, c in best.items():
        if c is None:
            parts_en.append(f"{w}: no variant meets the quality bar")
            parts_zh.append(f"{w}:没有变体满足质量门槛")
        else:
            close_en, close_zh = "", ""
            if summary.within_build_spread(c.speedup, C1_SPEEDUP, results):
                spread = summary.build_spread(results)
                close_en = f", within this build's own spread ({spread:.1%}) of the {C1_SPEEDUP}× threshold"
                close_zh = f",与 {C1_SPEEDUP}× 门槛的差距小于本次构建自身的离散程度({spread:.1%})"
            parts_en.append(f"{w}: {c.speedup:.2f}× with {c.label} ({c.experiment}){close_en}")
            parts_zh.append(f"{w}:{c.speedup:.2f}×,{c.label_zh}({c.experiment}){close_zh}")
    outcome = "holds" if len(fast) == len(best) else "partly" if fast else "does-not-hold"
    return Finding(outcome, "; ".join(parts_en) + ".", ";".join(parts_zh) + "。")


def judge_c3(results: dict[str, ExperimentResult]) -> Finding:
    best = _best_per_workload(results)
    parts_en, parts_zh, within = [], [], 0
    for w, c in best.items():
        if c is None:
            continue
        result = results[c.experiment]
        entry = next(p for p in result.points if p["params"] == c.params)["variants"][c.variant]
        kind, value, n = tail_figure(entry["latency"])
        within += value <= C3_BUDGET_MS
        margin = C3_BUDGET_MS - value
        name_en = {"max": "slowest call"}.get(kind, kind)
        name_zh = {"max": "最慢一次调用"}.get(kind, kind)
        parts_en.append(
            f"{w}: {name_en} {value:.3g} ms (n={n} calls), {abs(margin):.3g} ms "
            f"{'under' if margin >= 0 else 'over'} the budget ({c.label})"
        )
        parts_zh.append(
            f"{w}:{name_zh} {value:.3g} 毫秒(n={n} 次调用),{'低于' if margin >= 0 else '超出'}预算 "
            f"{abs(margin):.3g} 毫秒({c.label_zh})"
        )
    measured = len(parts_en)
    outcome = "holds" if measured and within == measured else "partly" if within else "does-not-hold"
    note_en = " This verdict compares with the latency budget only, not with a GPU."
    note_zh = "本判定只与延迟预算比较,不与 GPU 比较。"
    return Finding(outcome, "; ".join(parts_en) + "." + note_en, ";".join(parts_zh) + "。" + note_zh)


VERDICTS = [
    Verdict(
        claim="C1",
        experiments=ACROSS,
        rule=(
            f"Holds if, on every workload, some measured variant meets the workload's quality bar and is at "
            f"least {C1_SPEEDUP}× faster than PyTorch eager FP32 at the reference point (paired median); "
            "partly if on some workloads; does not hold if on none."
        ),
        rule_zh=(
            f"若每个工作负载上都有某个变体满足质量门槛,且在参考点上比 PyTorch eager FP32 快至少 "
            f"{C1_SPEEDUP} 倍(成对中位数),则成立;只在部分工作负载上做到则部分成立;都做不到则不成立。"
        ),
        judge=judge_c1,
    ),
    Verdict(
        claim="C3",
        experiments=ACROSS,
        rule=(
            f"Holds if, on every workload, the fastest variant within the quality bar answers one request "
            f"(batch 1) within {C3_BUDGET_MS:.0f} ms at its tail on this CPU; partly if on some workloads. "
            f"The tail is the p99 when the sample holds at least {MIN_CALLS['p99']} calls, else the p90 when "
            f"it holds at least {MIN_CALLS['p90']}, else the slowest call measured; the evidence names which "
            "and the number of calls n."
        ),
        rule_zh=(
            f"若每个工作负载上满足质量门槛的最快变体处理单个请求(批大小 1)的尾部延迟在本 CPU 上不超过 "
            f"{C3_BUDGET_MS:.0f} 毫秒,则成立;只在部分工作负载上做到则部分成立。调用数至少 "
            f"{MIN_CALLS['p99']} 次时尾部取 p99,至少 {MIN_CALLS['p90']} 次时取 p90,否则取所测最慢的一次;"
            "依据中写明取的是哪一个以及调用次数 n。"
        ),
        judge=judge_c3,
    ),
]
