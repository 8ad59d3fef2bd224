"""Plotly charts of one experiment: p50 latency and speedup per point and variant."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from benchmarks.harness import MIN_CALLS, percentile_supported
from benchmarks.report.markup import interval_level, labels, point_label
from benchmarks.report.strings import t
from benchmarks.results import ExperimentResult

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3")


def chart_html(fig: go.Figure, name: str) -> str:
    """The chart's HTML: plotly escapes ``<``, ``>`` and ``/`` in the JSON it embeds in a
    ``<script>``; strings shown in the chart are escaped by the callers (plotly.js renders a
    subset of HTML in them and decodes character references)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", name)  # an element id, and a string in the script
    fig.update_layout(
        margin={"l": 60, "r": 20, "t": 30, "b": 60},
        height=420,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
    )
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=name,
        config={"displaylogo": False, "responsive": True},
    )
    return f'<div class="bench-chart" markdown="0">\n{div}\n</div>'


def colour(result: ExperimentResult, name: str) -> str:
    """The same variant keeps the same colour in every chart of an experiment."""
    names = [v["name"] for v in result.config["variants"]]
    return PALETTE[names.index(name) % len(PALETTE)]


def grouped_bars(
    page: Renderer,
    exp: str | None,
    lang: str,
    kind: str,
    value: Callable[[dict[str, Any]], tuple[float, float, float]],
    with_baseline: bool,
) -> tuple[ExperimentResult | None, go.Figure | None, str]:
    """One bar per point and variant; ``value(entry)`` gives (height, error below, error above)."""
    result, notice = page.load(exp, lang)
    if result is None:
        return None, None, notice
    fig = go.Figure()
    for name, label in labels(result, lang).items():
        if name == result.config["baseline"] and not with_baseline:
            continue
        xs = [point_label(point["params"], lang) for point in result.points]
        ys, below, above = zip(*(value(point["variants"][name]) for point in result.points), strict=True)
        fig.add_bar(
            name=label,
            x=xs,
            y=list(ys),
            marker_color=colour(result, name),
            error_y={"type": "data", "array": list(above), "arrayminus": list(below), "symmetric": False},
        )
    fig.update_layout(barmode="group", yaxis_title=t(lang, f"{kind}_axis"))
    return result, fig, notice


def latency_chart(page: Renderer, exp: str | None, lang: str) -> str:
    """``bench:chart EXP``: p50 latency per point and variant, with a bar up to p90."""

    def p50_to_p90(entry: dict[str, Any]) -> tuple[float, float, float]:
        lat = entry["latency"]
        tail = lat["p90"] - lat["p50"] if percentile_supported(lat, "p90") else 0.0
        return lat["p50"], 0.0, tail

    result, fig, notice = grouped_bars(page, exp, lang, "latency", p50_to_p90, with_baseline=True)
    if result is None or fig is None:
        return notice
    fig.update_layout(yaxis_title=t(lang, "latency_axis").format(need=MIN_CALLS["p90"]))
    return notice + page.chart(fig, f"chart-latency-{(exp or '').replace('/', '-')}-{lang}")


def speedup_chart(page: Renderer, exp: str | None, lang: str) -> str:
    """``bench:speedup EXP``: each variant's paired speedup over the baseline, with its interval."""

    def with_ci(entry: dict[str, Any]) -> tuple[float, float, float]:
        speed = entry["speedup"]
        return speed["median"], speed["median"] - speed["ci_low"], speed["ci_high"] - speed["median"]

    result, fig, notice = grouped_bars(page, exp, lang, "speedup", with_ci, with_baseline=False)
    if result is None or fig is None:
        return notice
    fig.add_hline(y=1.0, line_dash="dot")
    level = interval_level(e.get("speedup") for p in result.points for e in p["variants"].values())
    fig.update_layout(yaxis_title=t(lang, "speedup_axis_level").format(level=level))
    return notice + page.chart(fig, f"chart-speedup-{(exp or '').replace('/', '-')}-{lang}")
