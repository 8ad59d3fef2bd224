"""The roofline chart and its table (``<!-- bench:roofline -->``): the measured ceilings, the eager
models under them (``benchmarks.techniques.roofline.roofline_data``) and the recipes' variants.

Reads stored results only (no torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from benchmarks.points import shape_key
from benchmarks.report.escape import md_text  # names and workloads are read from the results files
from benchmarks.report.markup import MarkerError, bench_table, markdown_table, not_measured
from benchmarks.report.strings import workload_name

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

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
    the FP32 model's FLOPs over the variant's p50, against the peak of the precision it computed in."""
    from benchmarks.claims.recipes import achieved, compute_precision, peaks, select
    from benchmarks.techniques.onnxruntime import PYTORCH_EAGER
    from benchmarks.techniques.recipes import RECIPE_EXPERIMENTS

    peak = peaks(results.get("roofline/gemm"))
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
                    "fraction_of_peak": gflop_s / peak[precision] if gflop_s and precision in peak else None,
                }
            )
    return points


def roofline_rows(results: dict[str, Any], lang: str = "en") -> list[dict[str, str]]:
    """The roofline's figures as table rows: each ceiling, then each model point."""
    from benchmarks.techniques.roofline import roofline_data

    data = roofline_data(results)
    zh = lang == "zh"
    rows = [
        {
            ("测量" if zh else "measured"): md_text(name.removeprefix("gemm-")),
            ("速率" if zh else "rate"): f"{v:.1f} GFLOP/s",
        }
        for name, v in data["gflop_s"].items()
    ]
    rows += [
        {("测量" if zh else "measured"): md_text(name), ("速率" if zh else "rate"): f"{v:.1f} GB/s"}
        for name, v in data["gb_s"].items()
    ]
    for m in data["models"]:
        where = ", ".join(f"{md_text(k)}={md_text(v)}" for k, v in m["params"].items())
        rows.append(
            {
                (
                    "测量" if zh else "measured"
                ): f"{md_text(workload_name('zh' if zh else 'en', m['workload']))} ({where})",
                ("速率" if zh else "rate"): f"{m['gflop_s']:.2f} GFLOP/s, {m['intensity']:.1f} FLOP/B",
            }
        )
    return rows


ROOF_TEXT = {
    "en": {
        "x": "arithmetic intensity (FLOP per byte of weights, inputs and outputs)",
        "y": "GFLOP/s (log)",
        "roof": "FP32 roof: min(peak, bandwidth × intensity)",
        "peak": "{name} peak {value:.0f} GFLOP/s",
        "model": "{workload}, eager FP32, {threads} threads",
        "recipes": "{workload}: recipe (large) and peers, see Recipes vs peers",
    },
    "zh": {
        "x": "算术强度(每字节权重、输入与输出对应的 FLOP)",
        "y": "GFLOP/s(对数)",
        "roof": "FP32 屋顶:min(峰值, 带宽 × 强度)",
        "peak": "{name} 峰值 {value:.0f} GFLOP/s",
        "model": "{workload},eager FP32,{threads} 线程",
        "recipes": "{workload}:推荐方案(大标记)与对照,见「推荐方案与同类方案」",
    },
}


def roofline_figure(results: dict[str, Any], lang: str = "en"):
    """A log-log roofline: measured ceilings, and where the eager models land under them."""
    import plotly.graph_objects as go

    from benchmarks.techniques.roofline import roofline_data

    text = ROOF_TEXT[lang]
    data = roofline_data(results)
    fig = go.Figure()
    fp32 = max((v for k, v in data["gflop_s"].items() if "fp32" in k), default=None)
    bw = max(data["gb_s"].values(), default=None)
    xs = np.logspace(-2, 4, 121)
    if fp32 and bw:
        fig.add_scatter(x=xs, y=np.minimum(fp32, bw * xs), mode="lines", name=text["roof"], line={"width": 3})
    for name, value in sorted(data["gflop_s"].items(), key=lambda kv: kv[1]):
        label = md_text(name.removeprefix("gemm-"))
        fig.add_scatter(
            x=[xs[0], xs[-1]],
            y=[value, value],
            mode="lines",
            line={"dash": "dot", "width": 1},
            name=text["peak"].format(name=label, value=value),
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
