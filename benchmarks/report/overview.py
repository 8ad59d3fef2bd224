"""The site's overview tables: the headline (the fastest variant within the quality bar per
workload) and the article's comparison table, measured (one row per technique and workload)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from benchmarks import summary, workloads
from benchmarks.report.escape import md_reason, md_text
from benchmarks.report.markup import (
    MarkerError,
    fmt,
    headline_quality,
    markdown_table,
    not_measured,
    point_label,
    speedup_cell,
    speedup_header,
)
from benchmarks.report.strings import TECHNIQUES, t, workload_name

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

# The article's table (rows T1-T5) plus this project's additions: technique, claim judged on its
# page, and the page (the row's title is the technique's, in ``strings.TECHNIQUES``).
COMPARISON_ROWS = (
    ("onnxruntime", "T1", "onnxruntime.md"),
    ("tensorrt", "T2", "tensorrt.md"),
    ("pruning", "T3", "pruning.md"),
    ("low_rank", "T4", "low-rank.md"),
    ("distillation", "T5", "distillation.md"),
    ("quantization", "Q1", "quantization.md"),
)


def speed_of(c: Any) -> dict[str, Any]:
    """A candidate's speedup as a results file stores one."""
    return {"median": c.speedup, "ci_low": c.ci_low, "ci_high": c.ci_high, "confidence": c.confidence}


def _quality_bar(module: Any, lang: str) -> str:
    return module.QUALITY_BAR_ZH if lang == "zh" else module.QUALITY_BAR


def _table(frame: pd.DataFrame, note: str) -> str:
    return (
        f'<div class="bench-table" markdown>\n\n{markdown_table(frame)}\n\n</div>\n\n<small>{note}</small>\n'
    )


def headline(page: Renderer, arg: str | None, lang: str) -> str:
    """Per workload: the fastest variant that meets the quality bar, at the reference point,
    with how many candidates it was chosen from and how far the runner-up is."""
    if arg is not None:
        raise MarkerError("bench:headline takes no argument")
    results = page.all_ok()
    page.used.update(results)
    spread = summary.build_spread(results)
    rows, speeds = [], []
    for name in workloads.WORKLOADS:
        module = workloads.get(name)
        found = summary.candidates(results, name)
        if not found:
            continue
        ranking = summary.ranked(found)
        top = ranking[0] if ranking else None
        second = ranking[1] if len(ranking) > 1 else None
        speeds += [speed_of(c) for c in ranking[:2]]
        rows.append(
            {
                t(lang, "workload"): workload_name(lang, name),
                t(lang, "at_point"): point_label(module.REFERENCE_POINT, lang),
                t(lang, "best_variant"): (
                    f"{md_text(top.label_in(lang))} (`{top.experiment}`)"
                    if top
                    else t(lang, "none_within_bar")
                ),
                "speedup": speedup_cell(speed_of(top), bold=True) if top else "-",
                t(lang, "eager_p50"): fmt(top.baseline_p50_ms) if top else "-",
                t(lang, "variant_p50"): fmt(top.p50_ms) if top else "-",
                t(lang, "candidates"): t(lang, "candidates_n").format(within=len(ranking), total=len(found)),
                t(lang, "runner_up"): runner_up(top, second, spread, results, lang),
                t(lang, "quality"): headline_quality(top.quality, lang) if top else "-",
                t(lang, "quality_bar"): _quality_bar(module, lang),
            }
        )
    if not rows:
        return not_measured(lang, "all")
    frame = pd.DataFrame(rows).rename(columns={"speedup": speedup_header(lang, speeds)})
    return _table(frame, f"{t(lang, 'headline_note')} {t(lang, 'interval_note')}")


def runner_up(top: Any, second: Any, spread: float | None, results: Any, lang: str) -> str:
    """The second-fastest candidate within the bar, and how far behind the winner it is."""
    if top is None or second is None:
        return "-"
    gap = top.speedup / second.speedup - 1.0
    text = t(lang, "runner_up_text").format(
        label=md_text(second.label_in(lang)),
        exp=second.experiment,
        speed=speedup_cell(speed_of(second)),
        gap=gap,
    )
    if second.ci_high >= top.ci_low:
        text += t(lang, "intervals_overlap")
    if summary.within_build_spread(top.speedup, second.speedup, results):
        text += t(lang, "within_spread").format(spread=spread)
    return text


def comparison(page: Renderer, arg: str | None, lang: str) -> str:
    """The article's table, measured: one row per technique and workload, each row's best
    chosen among that technique's own variants (never a comparator it is timed beside)."""
    if arg is not None:
        raise MarkerError("bench:comparison takes no argument")
    results = page.all_ok()
    by_workload = {w: summary.candidates(results, w) for w in workloads.WORKLOADS}
    rows, speeds = [], []
    for technique, claim, where in COMPARISON_ROWS:
        exps = {n: e for n, e in page.experiments.items() if e.technique == technique}
        page.used.update(exps)
        finding, missing, skipped = page.finding(claim)
        if finding is not None:
            verdict = f"[{t(lang, finding.outcome)}]({where}#claim-{claim.lower()})"
        elif skipped and len(skipped) == len(missing):
            verdict = t(lang, "not-measurable") + ": " + md_reason(skipped[0].reason)
        else:
            verdict = t(lang, "figure_missing")
        first = True
        for workload in workloads.WORKLOADS:
            if not any(e.workload == workload for e in exps.values()):
                continue
            found = [c for c in by_workload[workload] if c.technique == technique and c.own]
            ranking = summary.ranked(found)
            top = ranking[0] if ranking else None
            if top is not None:
                speeds.append(speed_of(top))
            sizes = [c.size_ratio for c in ranking if c.size_ratio is not None]
            if top:
                best = md_text(top.label_in(lang))
            else:
                best = t(lang, "none_within_bar") if found else t(lang, "figure_missing")
            rows.append(
                {
                    t(lang, "technique"): f"[{TECHNIQUES[lang][technique]}]({where})" if first else "",
                    t(lang, "workload"): workload_name(lang, workload),
                    t(lang, "best_variant"): best,
                    "speedup": speedup_cell(speed_of(top), bold=True) if top else "-",
                    t(lang, "variant_p50"): fmt(top.p50_ms) if top else "-",
                    t(lang, "quality"): headline_quality(top.quality, lang) if top else "-",
                    t(lang, "size_change"): (f"{min(sizes):.2f}× … {max(sizes):.2f}×" if sizes else "-"),
                    t(lang, "one_time"): f"{top.one_time_s:.1f} s" if top else "-",
                    t(lang, "verdict_col"): verdict if first else "",
                }
            )
            first = False
    frame = pd.DataFrame(rows).rename(columns={"speedup": speedup_header(lang, speeds)})
    bars = " · ".join(
        f"{workload_name(lang, w)}: {_quality_bar(workloads.get(w), lang)} "
        f"({t(lang, 'at_point')} {point_label(workloads.get(w).REFERENCE_POINT, lang)})"
        for w in workloads.WORKLOADS
    )
    return _table(frame, f"{t(lang, 'quality_bar')}: {bars}. {t(lang, 'interval_note')}")
