"""The roofline chart and its table (``<!-- bench:roofline -->``): each library's measured GEMM peak,
the theoretical peak per precision (``benchmarks.claims.peaks``), the eager models under them
(``benchmarks.techniques.roofline.roofline_data``) and the recipes' variants, each placed against
the higher of its precision's measured and theoretical peak.

Reads stored results only (no torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from benchmarks.points import shape_key

# names and workloads are read from the results files
from benchmarks.report.escape import md_code, md_text
from benchmarks.report.markup import MarkerError, bench_table, labels, markdown_table, not_measured
from benchmarks.report.strings import workload_name

if TYPE_CHECKING:
    from benchmarks.claims.peaks import Peak
    from benchmarks.report.page import Renderer
    from benchmarks.results import ExperimentResult

# What a roofline chart reads; any of them may be missing (then its part is left out).
ROOFLINE_EXPERIMENTS = (
    "roofline/gemm",
    "roofline/bandwidth",
    "threads/minilm",
    "threads/digits-cnn",
    "recipes/minilm",
    "recipes/digits-cnn",
    "recipes/resnet50",
)


def recipe_points(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every peer and recipe candidate of the recipes experiments at the workload's reference point:
    the FP32 model's FLOPs over the variant's p50, against the peak of the precision it computed in
    (the higher of the measured and the theoretical one, ``benchmarks.claims.peaks``)."""
    from benchmarks.claims.recipes import achieved, compute_precision, select
    from benchmarks.techniques.onnxruntime import PYTORCH_EAGER
    from benchmarks.techniques.recipes import RECIPE_EXPERIMENTS

    peak = {p: v.best for p, v in machine_peaks(results).items() if v.best}
    points = []
    for exp in RECIPE_EXPERIMENTS:
        result = results.get(exp)
        if result is None:
            continue
        base = result.variants[PYTORCH_EAGER.name]["info"]
        chosen = select(result)
        key = shape_key(chosen.params)
        if key not in base.get("flops_per_item", {}):
            continue
        batch = chosen.params.get("batch", 1)
        traffic = 4 * base["params"] + base["io_bytes_per_item"][key] * batch
        for entry in chosen.entries:
            gflop_s = achieved(result, entry, chosen.params)
            precision = compute_precision(result.variants[entry.variant]["info"])
            points.append(
                {
                    "experiment": exp,
                    "workload": result.config["workload"],
                    "variant": entry.variant,
                    "role": entry.role,
                    "recipe": chosen.recipe is not None and entry.variant == chosen.recipe.variant,
                    "params": chosen.params,
                    "precision": precision,
                    "intensity": base["flops_per_item"][key] * batch / traffic,
                    "gflop_s": gflop_s,
                    "peak_gflop_s": peak.get(precision),
                    "fraction_of_peak": gflop_s / peak[precision] if gflop_s and precision in peak else None,
                }
            )
    return points


def machine_peaks(results: dict[str, Any]) -> dict[str, Peak]:
    """Measured and theoretical peaks per precision, from roofline/gemm and its machine card."""
    from benchmarks.claims.peaks import peaks

    gemm = results.get("roofline/gemm")
    return peaks(gemm, gemm.machine if gemm is not None else {})


def peak_name(name: str, gemm: ExperimentResult | None, lang: str) -> str:
    """A GEMM variant as a reader knows it: its label (library and precision) from the results."""
    found = labels(gemm, lang) if gemm is not None else {}
    return found.get(name) or md_text(name.removeprefix("gemm-"))


def roofline_rows(results: dict[str, Any], lang: str = "en") -> list[dict[str, str]]:
    """The roofline's figures as table rows: each library's measured GEMM peak, the theoretical
    peak per precision (or why there is none), the bandwidth, then each model point."""
    from benchmarks.claims.peaks import measured_rates
    from benchmarks.techniques.roofline import roofline_data

    data = roofline_data(results)
    text = ROOF_TEXT[lang]
    gemm = results.get("roofline/gemm")
    col_what, col_rate, col_how = text["col_what"], text["col_rate"], text["col_how"]
    rows = []
    for name, (precision, rate) in measured_rates(gemm).items():
        rows.append(
            {
                col_what: text["measured_row"].format(name=peak_name(name, gemm, lang)),
                col_rate: f"{rate:.1f} GFLOP/s",
                col_how: text["measured_how"].format(precision=md_text(precision), variant=md_code(name)),
            }
        )
    for precision, peak in machine_peaks(results).items():
        value = peak.theoretical_gflop_s
        rows.append(
            {
                col_what: text["theory_row"].format(precision=md_text(precision)),
                col_rate: f"{value:.1f} GFLOP/s" if value is not None else text["none"],
                col_how: md_text(peak.basis(lang) or ""),
            }
        )
    rows += [
        {col_what: md_text(name), col_rate: f"{v:.1f} GB/s", col_how: text["bandwidth_how"]}
        for name, v in data["gb_s"].items()
    ]
    for m in data["models"]:
        where = ", ".join(f"{md_text(k)}={md_text(v)}" for k, v in m["params"].items())
        rows.append(
            {
                col_what: f"{md_text(workload_name(lang, m['workload']))} ({where})",
                col_rate: f"{m['gflop_s']:.2f} GFLOP/s, {m['intensity']:.1f} FLOP/B",
                col_how: text["model_how"],
            }
        )
    return rows


ROOF_TEXT = {
    "en": {
        "x": "arithmetic intensity (FLOP per byte of weights, inputs and outputs)",
        "y": "GFLOP/s (log)",
        "roof": "FP32 roof: min(best FP32 peak, bandwidth × intensity)",
        "peak": "measured: {name}, {value:.0f} GFLOP/s",
        "theory": "theoretical {precision} peak {value:.0f} GFLOP/s{assumed}",
        "assumed": " (per-cycle figure assumed)",
        "model": "{workload}, eager FP32, {threads} threads",
        "recipes": "{workload}: recipe (large) and peers, see Recipes vs peers",
        "col_what": "peak or model",
        "col_rate": "rate",
        "col_how": "how it was found",
        "measured_row": "measured: {name}",
        "measured_how": "{precision} matrix product timed in {variant} (roofline/gemm)",
        "theory_row": "theoretical {precision} peak",
        "none": "none",
        "bandwidth_how": "copy timed in roofline/bandwidth",
        "model_how": "FLOPs counted by PyTorch over the measured p50",
    },
    "zh": {
        "x": "算术强度(每字节权重、输入与输出对应的 FLOP)",
        "y": "GFLOP/s(对数)",
        "roof": "FP32 屋顶:min(最高 FP32 峰值, 带宽 × 强度)",
        "peak": "实测:{name},{value:.0f} GFLOP/s",
        "theory": "理论 {precision} 峰值 {value:.0f} GFLOP/s{assumed}",
        "assumed": "(每周期运算数为假定值)",
        "model": "{workload},eager FP32,{threads} 线程",
        "recipes": "{workload}:推荐方案(大标记)与对照,见「推荐方案与同类方案」",
        "col_what": "峰值或模型",
        "col_rate": "速率",
        "col_how": "来源",
        "measured_row": "实测:{name}",
        "measured_how": "{variant} 中计时的 {precision} 矩阵乘法(roofline/gemm)",
        "theory_row": "理论 {precision} 峰值",
        "none": "无",
        "bandwidth_how": "roofline/bandwidth 中计时的复制",
        "model_how": "PyTorch 统计的 FLOPs 除以实测 p50",
    },
}


def roofline_figure(results: dict[str, Any], lang: str = "en"):
    """A log-log roofline: measured ceilings, and where the eager models land under them."""
    import plotly.graph_objects as go

    from benchmarks.techniques.roofline import roofline_data

    text = ROOF_TEXT[lang]
    data = roofline_data(results)
    fig = go.Figure()
    peaks = machine_peaks(results)
    gemm = results.get("roofline/gemm")
    fp32 = peaks["fp32"].best
    bw = max(data["gb_s"].values(), default=None)
    xs = np.logspace(-2, 4, 121)
    if fp32 and bw:
        fig.add_scatter(x=xs, y=np.minimum(fp32, bw * xs), mode="lines", name=text["roof"], line={"width": 3})
    for name, value in sorted(data["gflop_s"].items(), key=lambda kv: kv[1]):
        fig.add_scatter(
            x=[xs[0], xs[-1]],
            y=[value, value],
            mode="lines",
            line={"dash": "dot", "width": 1},
            name=text["peak"].format(name=peak_name(name, gemm, lang), value=value),
        )
    for precision, peak in peaks.items():
        if peak.theoretical_gflop_s is None:
            continue
        fig.add_scatter(
            x=[xs[0], xs[-1]],
            y=[peak.theoretical_gflop_s] * 2,
            mode="lines",
            line={"dash": "dash", "width": 2},
            name=text["theory"].format(
                precision=md_text(precision),
                value=peak.theoretical_gflop_s,
                assumed=text["assumed"] if peak.theoretical_assumed else "",
            ),
        )
    for workload in sorted({m["workload"] for m in data["models"]}):
        pts = [m for m in data["models"] if m["workload"] == workload]
        fig.add_scatter(
            x=[m["intensity"] for m in pts],
            y=[m["gflop_s"] for m in pts],
            mode="markers+text",
            text=[", ".join(f"{md_text(k)}={md_text(v)}" for k, v in m["params"].items()) for m in pts],
            textposition="top center",
            marker={"size": 10},
            name=text["model"].format(
                workload=md_text(workload_name(lang, workload)), threads=md_text(pts[0]["threads"])
            ),
        )
    recipes = recipe_points(results)
    for workload in sorted({r["workload"] for r in recipes}):
        pts = [r for r in recipes if r["workload"] == workload and r["gflop_s"]]
        fig.add_scatter(
            x=[r["intensity"] for r in pts],
            y=[r["gflop_s"] for r in pts],
            mode="markers",
            text=[
                f"{md_text(r['variant'])} ({md_text(r['precision'])}"
                + (f", {r['fraction_of_peak']:.0%})" if r["fraction_of_peak"] else ")")
                for r in pts
            ],
            hovertemplate="%{text}<br>%{y:.1f} GFLOP/s<extra></extra>",
            marker={"size": [16 if r["recipe"] else 9 for r in pts], "symbol": "diamond"},
            name=text["recipes"].format(workload=md_text(workload_name(lang, workload))),
        )
    fig.update_xaxes(type="log", title=text["x"])
    fig.update_yaxes(type="log", title=text["y"])
    return fig


def roofline(page: Renderer, arg: str | None, lang: str) -> str:
    """``bench:roofline``: this machine's measured ceilings and where the eager models land under them."""
    if arg:
        raise MarkerError(f"bench:roofline takes no argument, got {arg!r}")
    results = {n: r for n, r in page.all_ok().items() if n in ROOFLINE_EXPERIMENTS}
    page.used.update(results)
    if "roofline/gemm" not in results:
        return not_measured(lang, "roofline/gemm")
    fig = roofline_figure(results, lang)
    table = markdown_table(pd.DataFrame(roofline_rows(results, lang)))
    return page.chart(fig, f"chart-roofline-{lang}") + f"\n\n{bench_table(table)}"
