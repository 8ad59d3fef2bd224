"""``bench:tradeoff WORKLOAD``: speed against quality for every variant of every technique."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from benchmarks import summary, workloads
from benchmarks.report.escape import md_text
from benchmarks.report.markup import MarkerError, not_measured, point_label
from benchmarks.report.strings import t, technique_name

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer


def tradeoff(page: Renderer, workload: str | None, lang: str) -> str:
    """Speed against quality for every variant of every technique on one workload."""
    if workload not in workloads.WORKLOADS:
        raise MarkerError(f"unknown workload {workload!r}; known: {', '.join(workloads.WORKLOADS)}")
    results = page.all_ok()
    found = summary.candidates(results, workload)
    page.used.update(c.experiment for c in found)
    if not found:
        return not_measured(lang, workload)
    module = workloads.get(workload)
    metric = "accuracy" if module.QUALITY_KIND == "accuracy" else "cosine_mean"
    fig = go.Figure()
    for technique in sorted({c.technique for c in found}):
        group = [c for c in found if c.technique == technique and metric in c.quality]
        fig.add_scatter(
            name=technique_name(lang, technique),
            x=[c.speedup for c in group],
            y=[c.quality[metric] for c in group],
            mode="markers",
            marker={
                "size": 11,
                "symbol": ["circle" if c.meets_bar else "circle-open" for c in group],
                "line": {"width": 2},
            },
            text=[f"{md_text(c.label_in(lang))}<br>{c.experiment}" for c in group],
            hovertemplate="%{text}<br>%{x:.2f}×, %{y:.4f}<extra></extra>",
        )
    fig.add_vline(x=1.0, line_dash="dot")
    fig.update_layout(
        xaxis={"type": "log", "title": t(lang, "speedup_axis")},
        yaxis={"title": t(lang, metric)},
    )
    bar = module.QUALITY_BAR_ZH if lang == "zh" else module.QUALITY_BAR
    caption = (
        f"<small>{t(lang, 'at_point')}: {point_label(module.REFERENCE_POINT, lang)} · "
        f"{t(lang, 'quality_bar')}: {bar} (● / ○)</small>\n"
    )
    return page.chart(fig, f"chart-tradeoff-{workload}-{lang}") + "\n\n" + caption
