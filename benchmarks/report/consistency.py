"""``bench:consistency``: how far the build agrees with itself, from the configurations it timed
in more than one experiment."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from benchmarks import summary
from benchmarks.report.escape import md_code, md_text
from benchmarks.report.markup import MarkerError, admonition, bench_table, fmt, markdown_table, point_label
from benchmarks.report.strings import t, workload_name

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer


def _by_experiment(values: dict[str, float], unit: str) -> str:
    ordered = sorted(values.items(), key=lambda kv: kv[1])
    return "; ".join(f"`{exp}` {fmt(v)}{unit}" for exp, v in ordered) or "-"


def consistency(page: Renderer, arg: str | None, lang: str) -> str:
    """Every configuration this build timed in more than one experiment, with each
    experiment's p50 and their spread: how far the build agrees with itself."""
    if arg is not None:
        raise MarkerError(f"bench:consistency takes no argument, got {arg!r}")
    results = page.all_ok()
    repeats = summary.consistency(results)
    page.used.update(exp for r in repeats for exp in r.p50_ms)
    if not repeats:
        return admonition("info", t(lang, "no_repeats"), t(lang, "no_repeats_body"))
    worst = repeats[0]
    lead = t(lang, "consistency_lead").format(
        n=len(repeats),
        median=summary.p50_spread(results),
        worst=worst.spread,
        label=md_text(worst.label_in(lang)),
        workload=workload_name(lang, worst.workload),
        point=point_label(worst.params, lang),
    )
    paired = sorted(
        (r for r in repeats if r.speedup_spread is not None), key=lambda r: -(r.speedup_spread or 0.0)
    )
    if paired:
        lead += " " + t(lang, "consistency_speedups").format(
            n=len(paired),
            median=summary.speedup_spread(results),
            worst=paired[0].speedup_spread,
            label=md_text(paired[0].label_in(lang)),
            workload=workload_name(lang, paired[0].workload),
            point=point_label(paired[0].params, lang),
        )
    else:
        lead += " " + t(lang, "consistency_no_speedups")
    rows = [
        {
            t(lang, "variant"): f"{md_text(r.label_in(lang))} ({md_code(r.variant)})",
            t(lang, "workload"): md_text(workload_name(lang, r.workload)),
            t(lang, "point"): point_label(r.params, lang),
            t(lang, "threads"): md_text(r.threads) if r.threads is not None else "-",
            t(lang, "p50_by_experiment"): _by_experiment(r.p50_ms, ""),
            t(lang, "spread"): f"{r.spread:.1%}",
            t(lang, "speedup_by_experiment"): _by_experiment(r.speedups, "×"),
            t(lang, "spread") + " ×": f"{r.speedup_spread:.1%}" if r.speedup_spread is not None else "-",
        }
        for r in repeats
    ]
    return f"{lead}\n\n{bench_table(markdown_table(pd.DataFrame(rows)))}"
