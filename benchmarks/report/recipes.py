"""``bench:recipes WORKLOAD``: the recipe chosen by rule against the peers, measured in one run
(``recipes/<workload>``); the choice itself is ``benchmarks.claims.recipes.select``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    from benchmarks.claims.recipes import Outcome, Target
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
    from benchmarks.claims.recipes import achieved, compute_precision, select

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
    if ratio:
        lines.append(
            text["ratio"].format(
                median=ratio.median,
                low=ratio.ci_low,
                high=ratio.ci_high,
                rounds=ratio.rounds,
                level=interval_label(ratio.confidence),
            )
        )
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


def target_text(target: Target, lang: str) -> str:
    text = RECIPES[lang]
    if target.floor is None:
        return text["target_goal"].format(goal=target.goal)
    return text["target_floor"].format(floor=target.floor, goal=target.goal)


def outcome_text(outcome: Outcome, lang: str) -> str:
    text, ratio = RECIPES[lang], outcome.selection.ratio
    if outcome.met is None or ratio is None or outcome.target is None:
        return text["outcome_none"]
    short = outcome.target.goal / ratio.median - 1
    if outcome.goal_met and outcome.met:
        return text["outcome_met"]
    floor = outcome.target.floor
    if floor is None:
        return text["outcome_missed"].format(short=short)
    if outcome.met:
        return text["outcome_matched"].format(short=short)
    aim = "" if outcome.goal_met else text["aim_missed"].format(short=short)
    return text["outcome_unmatched"].format(low=ratio.ci_low, floor=floor) + aim


def why_text(outcome: Outcome, lang: str) -> str:
    text = RECIPES[lang]
    return (
        "; ".join(
            text[f"why:{reason.kind}"].format(
                **{k: md_text(v) if isinstance(v, str) else v for k, v in reason.figures.items()}
            )
            for reason in outcome.reasons
        )
        or "-"
    )


def targets_rows(result: ExperimentResult, lang: str, limits: dict[str, Any]) -> list[dict[str, str]]:
    """One row per measured point: the recipe, the fastest peer, their ratio against the target, and
    the measured reasons when the goal is missed."""
    from benchmarks.claims.recipes import outcomes

    text, names = RECIPES[lang], labels(result, lang)
    rows = []
    for found in outcomes(result, **limits):
        chosen, ratio = found.selection, found.selection.ratio
        rows.append(
            {
                text["point"]: point_label(chosen.params, lang),
                text["recipe_col"]: names[chosen.recipe.variant] if chosen.recipe else "-",
                text["peer_col"]: names[chosen.peer.variant] if chosen.peer else "-",
                text["ratio_col"]: f"{ratio.median:.2f}× [{ratio.ci_low:.2f}, {ratio.ci_high:.2f}]"
                if ratio
                else "-",
                text["target_col"]: target_text(found.target, lang) if found.target else "-",
                text["outcome_col"]: outcome_text(found, lang),
                text["why_col"]: why_text(found, lang),
            }
        )
    return rows


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
    from benchmarks.claims.peaks import bandwidth_gb_s, overhead_ms, peaks
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
    # The higher of the measured and the theoretical peak at each precision (benchmarks.claims.peaks).
    peak = {p: found.best for p, found in peaks(gemm, gemm.machine if gemm else {}).items() if found.best}
    limits: dict[str, Any] = {"peak": peak}
    for exp_name, key, read in (
        ("overhead/empty-call", "overhead_ms", overhead_ms),
        ("roofline/bandwidth", "bandwidth_gb_s", bandwidth_gb_s),
    ):
        found = page.all_ok().get(exp_name)
        if found is not None:
            page.used.add(exp_name)
        limits[key] = read(found)
    module = workloads.get(workload)
    point = point_label(module.REFERENCE_POINT, lang)
    bar = module.QUALITY_BAR_ZH if lang == "zh" else module.QUALITY_BAR
    lines = "\n\n".join(summary_lines(result, lang, peak))
    targets = bench_table(markdown_table(pd.DataFrame(targets_rows(result, lang, limits))))
    table = bench_table(markdown_table(pd.DataFrame(table_rows(result, lang, peak))))
    chart = page.chart(figure(result, lang, point), f"chart-recipes-{workload}-{lang}")
    return (
        f"{notice}\n{lines}\n\n{RECIPES[lang]['targets_title']}\n\n{targets}\n"
        f"<small>{t(lang, 'at_point')}: {point} · "
        f"{t(lang, 'quality_bar')}: {bar} · {RECIPES[lang]['legend']}</small>\n\n"
        f"{table}\n{chart}\n"
    )
