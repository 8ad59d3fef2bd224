"""Tables of one experiment: its speed per point and variant, and what each variant was."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from benchmarks.report.escape import md_code, md_text
from benchmarks.report.markup import (
    HEADLINE_METRICS,
    fmt,
    labels,
    markdown_table,
    metric,
    point_label,
    quality_text,
    speedup_cell,
    speedup_header,
    tail_cell,
)
from benchmarks.report.strings import t

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

# What a variant's record says it ran with, shown in its quality table.
WHAT_RAN = (
    "precision",
    "providers",
    "graph_optimization_level",
    "opset",
    "exporter",
    "cpu_capability",
    "torch_threads",
    "intra_op_threads",
    "parity_max_abs_diff",
)


def table(page: Renderer, exp: str | None, lang: str) -> str:
    """``bench:table EXP``: latency, throughput, speedup and quality per point and variant."""
    result, notice = page.load(exp, lang)
    if result is None:
        return notice
    rows = []
    speed_col = speedup_header(
        lang, (e.get("speedup") for p in result.points for e in p["variants"].values())
    )
    for point in result.points:
        for name, entry in point["variants"].items():
            lat = entry["latency"]
            speed = entry.get("speedup")
            rows.append(
                {
                    t(lang, "point"): point_label(point["params"], lang),
                    t(lang, "variant"): md_code(name),
                    t(lang, "p50"): fmt(lat["p50"]),
                    t(lang, "p90"): tail_cell(lat, "p90", lang),
                    t(lang, "calls"): md_text(lat.get("count", "?")),
                    t(lang, "cv"): f"{lat['cv']:.1%}" + (" ⚠" if name in point.get("noisy", []) else ""),
                    t(lang, "throughput"): fmt(entry["throughput_per_s"]),
                    speed_col: speedup_cell(speed) if speed else t(lang, "baseline"),
                    **{
                        t(lang, key): metric(key, value)
                        for key, value in result.variants[name].get("quality", {}).items()
                        if key in HEADLINE_METRICS
                    },
                }
            )
    caption = (
        f"{t(lang, 'threads')}: {md_text(result.config['threads'])} · "
        f"{t(lang, 'profile')}: {md_text(result.profile)} · "
        f"{t(lang, 'date')}: {md_text(result.started)} · "
        f"{md_code(result.experiment)} · {t(lang, 'interval_note')}"
    )
    body = markdown_table(pd.DataFrame(rows))
    if any(point.get("noisy") for point in result.points):
        threshold = f"{result.config.get('noisy_cv', 0):.0%}"
        n = result.config.get("noise_repeats", 1)
        repeats = t(lang, "noisy_repeats").format(n=md_text(n)) if n else ""
        caption = t(lang, "noisy").format(threshold=threshold, repeats=repeats) + " · " + caption
    return f'{notice}\n<div class="bench-table" markdown>\n\n{body}\n\n</div>\n\n<small>{caption}</small>\n'


def quality(page: Renderer, exp: str | None, lang: str) -> str:
    """``bench:quality EXP``: each variant's quality, one-time costs, peak memory and settings."""
    result, notice = page.load(exp, lang)
    if result is None:
        return notice
    rows = []
    for name, label in labels(result, lang).items():
        variant = result.variants.get(name, {})
        costs = result.one_time_costs.get(name, {})
        info = variant.get("info", {})
        rows.append(
            {
                t(lang, "variant"): f"{md_code(name)}: {label}",
                t(lang, "quality"): quality_text(variant.get("quality", {}), lang),
                t(lang, "one_time"): "; ".join(f"{md_text(k)} {v:.2f} s" for k, v in costs.items()),
                t(lang, "peak_mem"): fmt(variant.get("memory", {}).get("peak_rss_mb", float("nan"))),
                t(lang, "what_ran"): "; ".join(
                    f"{k}={md_text(v) if not isinstance(v, float) else f'{v:.2g}'}"
                    for k, v in info.items()
                    if k in WHAT_RAN
                ),
            }
        )
    return notice + "\n" + markdown_table(pd.DataFrame(rows)) + "\n"
