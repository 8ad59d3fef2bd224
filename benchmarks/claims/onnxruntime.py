"""The ONNX Runtime page's rules: T1 (ONNX Runtime against PyTorch eager) and C6 (graph
optimisation), and where ONNX Runtime's difference from PyTorch comes from (``gap_steps``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.claims import Finding, Verdict, info, p50, point, speedup, speedup_entry
from benchmarks.results import ExperimentResult
from benchmarks.techniques.onnxruntime import ORT_ALL, ORT_LEVELS, ORT_PLAIN, ORT_TRANSFORMER, PYTORCH_EAGER

# ---- verdicts ------------------------------------------------------------------------------------

T1_EXPERIMENTS = ("onnxruntime/minilm", "onnxruntime/digits-cnn")
C6_EXPERIMENTS = ("onnxruntime-levels/minilm", "onnxruntime-levels/digits-cnn")
FASTER = 1.1


def _params(params: dict[str, int]) -> str:
    return "×".join(str(v) for v in params.values())


def _ort_variants(result: ExperimentResult, entry: dict[str, Any]) -> list[str]:
    """The ONNX Runtime configurations measured at one point (every variant but the baseline)."""
    baseline = result.config.get("baseline", PYTORCH_EAGER.name)
    return [v for v in entry["variants"] if v != baseline]


def judge_t1(results: dict[str, ExperimentResult]) -> Finding:
    """The best ONNX Runtime configuration measured against PyTorch eager at every batch-1 point
    of every workload, with ONNX Runtime at its defaults on a plain export shown beside it."""
    rows, rows_zh, verdicts = [], [], []
    for name in T1_EXPERIMENTS:
        result = results[name]
        workload = result.config["workload"]
        shown, shown_zh = [], []
        for entry in (e for e in result.points if e["params"]["batch"] == 1):
            params = entry["params"]
            figures = {v: speedup(result, v, **params) for v in _ort_variants(result, entry)}
            best = max(figures, key=lambda v: figures[v])
            verdicts.append(figures[best] >= FASTER)
            plain = figures.get(ORT_PLAIN.name)
            beside = f"; at its defaults, `{ORT_PLAIN.name}` {plain:.2f}×" if plain is not None else ""
            beside_zh = f";默认设置 `{ORT_PLAIN.name}` {plain:.2f}×" if plain is not None else ""
            if best == ORT_PLAIN.name:
                beside, beside_zh = " (ONNX Runtime at its defaults)", "(即默认设置)"
            shown.append(f"{_params(params)} best `{best}` {figures[best]:.2f}×{beside}")
            shown_zh.append(f"{_params(params)} 最快 `{best}` {figures[best]:.2f}×{beside_zh}")
        costs = result.one_time_costs.get(ORT_ALL.name, {})
        export_s = costs.get("export_s", float("nan"))
        chosen = result.variants.get(ORT_ALL.name, {}).get("info", {}).get("export_chosen")
        export = f"export {export_s:.1f} s, once" + (f"; export kept: {chosen}" if chosen else "")
        export_zh = f"导出 {export_s:.1f} 秒,一次性" + (f";选用的导出:{chosen}" if chosen else "")
        rows.append(f"{workload}: {', '.join(shown)} ({export})")
        rows_zh.append(f"{workload}:{','.join(shown_zh)}({export_zh})")
    outcome = "holds" if all(verdicts) else "does-not-hold" if not any(verdicts) else "partly"
    return Finding(
        outcome,
        "speedup over PyTorch eager of the fastest ONNX Runtime configuration measured at each batch-1 "
        "point (batch×seq or batch): " + "; ".join(rows),
        "批大小 1 的每个测量点上,所测最快的 ONNX Runtime 配置相对 PyTorch eager 的加速比(批×序列或批):"
        + ";".join(rows_zh),
    )


def _first_point(result: ExperimentResult) -> dict[str, int]:
    return result.points[0]["params"]


def _op_changes(before: dict[str, int], after: dict[str, int], limit: int = 5) -> str:
    change = {op: after.get(op, 0) - before.get(op, 0) for op in set(before) | set(after)}
    top = sorted((op for op in change if change[op]), key=lambda op: (-abs(change[op]), op))[:limit]
    return ", ".join(f"{op} {change[op]:+d}" for op in top) or "none"


def judge_c6(results: dict[str, ExperimentResult]) -> Finding:
    """Do higher optimisation levels leave fewer nodes, and run faster, than no optimisation?"""
    fewer, faster, rows, rows_zh = [], [], [], []
    for name in C6_EXPERIMENTS:
        result = results[name]
        params = _first_point(result)
        nodes = {v.name: info(result, v.name)["graph_nodes"] for v in ORT_LEVELS}
        base_ms = p50(result, "ort-disabled", **params)
        ratio = {v.name: base_ms / p50(result, v.name, **params) for v in ORT_LEVELS}
        fewer.append(nodes["ort-all"] < nodes["ort-disabled"])
        faster.append(ratio["ort-all"] >= FASTER)
        levels = ", ".join(f"{v.name[4:]} {nodes[v.name]} nodes, {ratio[v.name]:.2f}×" for v in ORT_LEVELS)
        levels_zh = ",".join(f"{v.name[4:]} {nodes[v.name]} 个节点、{ratio[v.name]:.2f}×" for v in ORT_LEVELS)
        changes = _op_changes(info(result, "ort-disabled")["graph_ops"], info(result, "ort-all")["graph_ops"])
        extra = extra_zh = ""
        if ORT_TRANSFORMER.name in result.variants:
            t_info = info(result, ORT_TRANSFORMER.name)
            fused = t_info.get("fused_counts_text") or ", ".join(
                f"{op} {n}" for op, n in t_info.get("fused_operators", {}).items()
            )
            t_ratio = base_ms / p50(result, ORT_TRANSFORMER.name, **params)
            by_export = "; ".join(
                f"{name}: " + (", ".join(f"{op} {n}" for op, n in counts.items() if n) or "none")
                for name, counts in t_info.get("fused_counts_by_export", {}).items()
            )
            chosen = t_info.get("export_chosen", "?")
            extra = (
                f"; transformer optimiser + all: {t_info['graph_nodes']} nodes, {t_ratio:.2f}×, "
                f"fusions on the export kept ({chosen}): {fused or 'none'}"
                + (f" (by export: {by_export})" if by_export else "")
            )
            extra_zh = (
                f";transformer 优化器 + all:{t_info['graph_nodes']} 个节点、{t_ratio:.2f}×,"
                f"在选用的导出({chosen})上的融合:{fused or '无'}"
                + (f"(各导出:{by_export})" if by_export else "")
            )
        where = f"{result.config['workload']} ({_params(params)})"
        rows.append(f"{where}: {levels}; all vs disabled: {changes}{extra}")
        rows_zh.append(f"{where}:{levels_zh};all 相对 disabled:{changes}{extra_zh}")
    if all(fewer) and any(faster):
        outcome = "holds"
    elif not any(fewer) and not any(faster):
        outcome = "does-not-hold"
    else:
        outcome = "partly"
    return Finding(
        outcome,
        "nodes in the optimised graph and speed relative to 'disabled' (p50 of disabled / p50 of the level): "
        + "; ".join(rows),
        "优化后计算图的节点数,以及相对 disabled 的速度(disabled 的 p50 / 该级别的 p50):" + ";".join(rows_zh),
    )


VERDICTS = [
    Verdict(
        claim="T1",
        experiments=T1_EXPERIMENTS,
        rule=(
            "Holds if the fastest ONNX Runtime configuration this build measured (ONNX Runtime at its "
            "defaults on torch.onnx.export's default export; the chosen export with tuned session "
            "options and all graph optimisations; on MiniLM also after the transformer optimiser, on the "
            "digits CNN also with IO binding) is at least 1.1× faster than PyTorch eager FP32 (median "
            "paired speedup) at every batch-1 point of both workloads (MiniLM, digits CNN); does not hold "
            "if it reaches 1.1× at none of them; partly holds otherwise. The configuration at its defaults "
            "is shown beside the fastest one. The export (the conversion step the article names as a "
            "cost) is reported as a one-time cost."
        ),
        rule_zh=(
            "若本次构建测得的最快 ONNX Runtime 配置(默认设置 + torch.onnx.export 默认导出;择优导出 + "
            "调优会话选项 + 全部图优化;MiniLM 另有 transformer 优化器,手写数字 CNN 另有 IO binding)"
            "在两个工作负载(MiniLM、手写数字 CNN)批大小为 1 的每个测量点上,都比 PyTorch eager FP32 "
            "快至少 1.1 倍(成对轮次加速比的中位数),则成立;若没有任何一个测量点达到 1.1 倍,则不成立;"
            "其余情况为部分成立。默认设置的配置与最快配置并列给出。导出(即原文所说的额外转换步骤)"
            "单列为一次性开销。"
        ),
        judge=judge_t1,
    ),
    Verdict(
        claim="C6",
        experiments=C6_EXPERIMENTS,
        rule=(
            "Holds if, on both workloads, the graph ONNX Runtime optimises at level 'all' has fewer nodes "
            "than at 'disabled', and on at least one workload 'all' runs at least 1.1× faster than "
            "'disabled' at batch 1 (ratio of p50 latencies measured in the same interleaved rounds); "
            "does not hold if neither the node count falls nor 'all' is 1.1× faster on any workload; "
            "partly holds otherwise."
        ),
        rule_zh=(
            "若在两个工作负载上,ONNX Runtime 在 'all' 级别优化后的计算图节点数都少于 'disabled',"
            "并且至少有一个工作负载在批大小 1 时 'all' 比 'disabled' 快至少 1.1 倍(同一组交替轮次中 p50 "
            "延迟之比),则成立;若在任何工作负载上节点数都没有减少、'all' 也都没有快 1.1 倍,则不成立;"
            "其余情况为部分成立。"
        ),
        judge=judge_c6,
    ),
]


# ---- where ONNX Runtime's difference from PyTorch comes from ---------------------------------


@dataclass(frozen=True)
class GapStep:
    """One factor of ONNX Runtime's speed over PyTorch eager at a workload's reference point."""

    key: str  # kernels | fusions | export | tuning | total
    experiment: str
    compared: str  # "variant / variant", as measured
    median: float
    ci_low: float | None  # None: one short timing, no interval
    ci_high: float | None
    confidence: float | None


def _paired(
    result: ExperimentResult, params: dict[str, int], baseline: str, candidate: str
) -> dict[str, Any]:
    """Paired speedup of ``candidate`` over ``baseline``, both timed in the same rounds."""
    from benchmarks.harness import PairedSpeedup

    variants = point(result, **params)["variants"]
    before = [[m] for m in variants[baseline]["round_medians"]]
    after = [[m] for m in variants[candidate]["round_medians"]]
    return PairedSpeedup.from_rounds(before, after).to_dict()


def gap_point(results: dict[str, ExperimentResult], workload: str) -> dict[str, int] | None:
    """Where the gap is split: the workload's reference point, or the levels experiment's first
    point when its profile does not measure the reference point (the toy profile)."""
    from benchmarks import workloads

    levels = results.get(f"onnxruntime-levels/{workload}")
    if levels is None or not levels.points:
        return None
    ref = dict(workloads.get(workload).REFERENCE_POINT)
    measured = [p["params"] for p in levels.points]
    return ref if ref in measured else measured[0]


def gap_steps(results: dict[str, ExperimentResult], workload: str) -> list[GapStep]:
    """ONNX Runtime over PyTorch eager at ``gap_point``, split into what each step adds: the
    kernels and runtime with no graph optimisation (``ort-disabled`` over eager: MLAS and ONNX
    Runtime's executor against PyTorch's maths libraries, op by op), the graph optimisations
    (``ort-all`` over ``ort-disabled``), the export kept (over the other exporter, from the
    short timing that chose it) and this site's tuning (kept export, tuned session) over ONNX
    Runtime's defaults on the default export. Steps whose experiments did not run, or did not
    measure that point, are left out."""
    at = gap_point(results, workload)
    if at is None:
        return []
    steps: list[GapStep] = []

    def add(key: str, name: str, compared: str, entry: dict[str, Any]) -> None:
        low, high, level = entry.get("ci_low"), entry.get("ci_high"), entry.get("confidence")
        steps.append(GapStep(key, name, compared, entry["median"], low, high, level))

    levels = results[f"onnxruntime-levels/{workload}"]
    add("total", levels.experiment, "ort-all / pytorch-eager", speedup_entry(levels, "ort-all", **at))
    add(
        "kernels",
        levels.experiment,
        "ort-disabled / pytorch-eager",
        speedup_entry(levels, "ort-disabled", **at),
    )
    add(
        "fusions", levels.experiment, "ort-all / ort-disabled", _paired(levels, at, "ort-disabled", "ort-all")
    )
    main = results.get(f"onnxruntime/{workload}")
    if main is not None:
        export = main.variants.get(ORT_ALL.name, {}).get("info", {})
        candidates = export.get("export_candidates") or {}
        chosen = export.get("export_chosen")
        first = next(iter(candidates), None)
        other = next((c for c in candidates if c != chosen), None)
        if chosen in candidates and other is not None:
            ratio = candidates[chosen if chosen != first else other].get("speedup_over_first")
            if ratio:
                ratio = ratio if chosen != first else 1.0 / ratio
                add("export", main.experiment, f"{chosen} / {other}", {"median": ratio})
        if any(p["params"] == at for p in main.points):
            add(
                "tuning",
                main.experiment,
                f"{ORT_ALL.name} / {ORT_PLAIN.name}",
                _paired(main, at, ORT_PLAIN.name, ORT_ALL.name),
            )
    return steps


def largest_factor(steps: list[GapStep]) -> GapStep | None:
    """Of the kernels, the graph optimisations and the export, the step that moves the speed most
    (in either direction); None when none was measured."""
    import math

    parts = [s for s in steps if s.key in ("kernels", "fusions", "export")]
    return max(parts, key=lambda s: abs(math.log(s.median)), default=None)
