"""``bench:recipes WORKLOAD``: the recipe chosen by rule against the peers, measured in one run
(``recipes/<workload>``); the choice itself is ``benchmarks.claims.recipes.select``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from benchmarks import workloads
from benchmarks.harness import interval_label
from benchmarks.report.escape import md_text
from benchmarks.report.markup import (
    MarkerError,
    bench_table,
    headline_quality,
    labels,
    markdown_table,
    point_label,
)
from benchmarks.report.strings import RECIPES, t
from benchmarks.results import ExperimentResult

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

# A sentence-transformers backend and the bare engine call it wraps, at the same precision.
FRAMEWORK_PAIRS = (("st-openvino", "openvino-defaults"), ("st-onnx", "onnxruntime-defaults"))


def table_rows(result: ExperimentResult, lang: str, peak: dict[str, float]) -> list[dict[str, str]]:
    """One row per variant at the reference point, fastest first; ★ marks the recipe, ◆ the peer."""
    from benchmarks.claims.recipes import achieved, compute_precision, select

    text, names = RECIPES[lang], labels(result, lang)
    chosen = select(result)
    rows = []
    for e in sorted(chosen.entries, key=lambda e: e.p50_ms):
        precision = compute_precision(result.variants[e.variant]["info"])
        gflop_s = achieved(result, e, chosen.params)
        fraction = f"{gflop_s / peak[precision]:.1%}" if gflop_s and precision in peak else "-"
        mark = " ★" if chosen.recipe and e.variant == chosen.recipe.variant else ""
        mark += " ◆" if chosen.peer and e.variant == chosen.peer.variant else ""
        rows.append(
            {
                text["variant"]: names[e.variant] + mark,
                text["role"]: text[e.role],
                text["p50"]: f"{e.p50_ms:.3g}",
                text["p90"]: f"{e.p90_ms:.3g}",
                text["throughput"]: f"{e.throughput_per_s:,.0f}",
                text["speedup"]: f"{e.speedup:.2f}×",
                text["quality"]: headline_quality(e.quality, lang),
                text["bar"]: text["yes"] if e.meets_bar else text["no"],
                text["one_time"]: f"{e.one_time_s:.1f}",
                text["precision"]: md_text(precision),
                text["peak"]: fraction,
            }
        )
    return rows


def summary_lines(result: ExperimentResult, lang: str, peak: dict[str, float]) -> list[str]:
    """The recipe, the fastest peer, their paired ratio against the target, the framework's
    overhead over its bare engine, and how near the recipe runs to this machine's peak."""
    from benchmarks.claims.recipes import TARGETS, achieved, compute_precision, select

    text, names = RECIPES[lang], labels(result, lang)
    chosen = select(result)
    lines = []
    recipe, peer, ratio = chosen.recipe, chosen.peer, chosen.ratio
    if recipe:
        lines.append(
            text["recipe"].format(label=names[recipe.variant], p50=recipe.p50_ms, speedup=recipe.speedup)
        )
    else:
        lines.append(text["no_recipe"])
    lines.append(
        text["peer_line"].format(label=names[peer.variant], p50=peer.p50_ms) if peer else text["no_peer"]
    )
    target = TARGETS.get(result.config["workload"])
    if ratio:
        line = text["ratio"].format(
            median=ratio.median,
            low=ratio.ci_low,
            high=ratio.ci_high,
            rounds=ratio.rounds,
            level=interval_label(ratio.confidence),
        )
        if target:
            outcome = text["met"] if ratio.median >= target else text["not_met"]
            line += text["target"].format(target=target, outcome=outcome)
        lines.append(line)
    by_name = {e.variant: e for e in chosen.entries}
    for framework, engine in FRAMEWORK_PAIRS:
        if framework in by_name and engine in by_name:
            f, g = by_name[framework], by_name[engine]
            lines.append(
                text["overhead"].format(
                    framework=names[framework],
                    framework_ms=f.p50_ms,
                    engine=names[engine],
                    engine_ms=g.p50_ms,
                    diff=f.p50_ms - g.p50_ms,
                )
            )
    if recipe:
        precision = compute_precision(result.variants[recipe.variant]["info"])
        gflop_s = achieved(result, recipe, chosen.params)
        if gflop_s and precision in peak:
            lines.append(
                text["limit"].format(
                    achieved=gflop_s,
                    fraction=gflop_s / peak[precision],
                    precision=md_text(precision),
                    peak=peak[precision],
                )
            )
    return lines


def figure(result: ExperimentResult, lang: str, point: str) -> go.Figure:
    """p50 latency of every variant at the reference point, peers and candidates apart."""
    from benchmarks.claims.recipes import select
    from benchmarks.techniques.recipes import CANDIDATE, PEER

    text, names = RECIPES[lang], labels(result, lang)
    chosen = select(result)
    fig = go.Figure()
    for kind in (PEER, CANDIDATE):
        group = sorted((e for e in chosen.entries if e.role == kind), key=lambda e: e.p50_ms)
        fig.add_scatter(
            name=text[kind],
            x=[e.p50_ms for e in group],
            y=[names[e.variant] for e in group],
            mode="markers",
            marker={
                "size": 12,
                "symbol": ["circle" if e.meets_bar else "circle-open" for e in group],
                "line": {"width": 2},
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [e.p90_ms - e.p50_ms for e in group],
                "arrayminus": [0] * len(group),
            },
            hovertemplate="%{y}<br>p50 %{x:.3g} ms<extra></extra>",
        )
    fig.update_xaxes(title=text["axis"].format(point=point), type="log")
    fig.update_yaxes(automargin=True)
    return fig


def recipes(page: Renderer, workload: str | None, lang: str) -> str:
    """The recipe chosen by rule against the peers, measured in one run (``recipes/<workload>``)."""
    from benchmarks.claims.recipes import peaks
    from benchmarks.techniques.recipes import RECIPE_EXPERIMENTS

    exp = f"recipes/{workload}"
    if exp not in RECIPE_EXPERIMENTS:
        raise MarkerError(f"bench:recipes {workload!r}: no experiment {exp}")
    assert workload is not None
    result, notice = page.load(exp, lang)
    if result is None:
        return notice
    gemm = page.all_ok().get("roofline/gemm")
    if gemm is not None:
        page.used.add("roofline/gemm")
    peak = peaks(gemm)
    module = workloads.get(workload)
    point = point_label(module.REFERENCE_POINT, lang)
    bar = module.QUALITY_BAR_ZH if lang == "zh" else module.QUALITY_BAR
    lines = "\n\n".join(summary_lines(result, lang, peak))
    table = bench_table(markdown_table(pd.DataFrame(table_rows(result, lang, peak))))
    chart = page.chart(figure(result, lang, point), f"chart-recipes-{workload}-{lang}")
    return (
        f"{notice}\n{lines}\n\n<small>{t(lang, 'at_point')}: {point} · "
        f"{t(lang, 'quality_bar')}: {bar} · {RECIPES[lang]['legend']}</small>\n\n"
        f"{table}\n{chart}\n"
    )
