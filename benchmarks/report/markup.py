"""Markdown pieces the widgets share: tables, admonitions, and the cells of a speed table."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from benchmarks.harness import MIN_CALLS, interval_label, percentile_supported
from benchmarks.report.escape import md_text
from benchmarks.report.strings import t
from benchmarks.results import ExperimentResult

# Quality metrics shown in every speed table, next to the figures they qualify.
HEADLINE_METRICS = ("accuracy", "cosine_mean", "topic_map_ratio", "nn_top1_agreement", "top1_agreement")


class MarkerError(ValueError):
    """A page asks for something that does not exist: the build must fail."""


def markdown_table(df: pd.DataFrame) -> str:
    """A plain Markdown table, so the theme styles it like any other."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def bench_table(table: str) -> str:
    """A table in the site's wide-table wrapper (it scrolls sideways on a narrow screen)."""
    return f'<div class="bench-table" markdown>\n\n{table}\n\n</div>\n'


def fmt(value: float, digits: int = 3) -> str:
    if value >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def admonition(kind: str, title: str, body: str) -> str:
    indented = "\n".join(f"    {line}" if line else "" for line in body.splitlines())
    return f'!!! {kind} "{title}"\n\n{indented}\n'


def not_measured(lang: str, exp: str) -> str:
    """The notice for results this build did not write."""
    return admonition("warning", t(lang, "not_measured"), t(lang, "not_measured_body").format(exp=exp))


def verdict_box(kind: str, title: str, claim: str, body: str) -> str:
    """An admonition with a stable id, so the comparison table links to each verdict."""
    return f'<div id="claim-{claim.lower()}" markdown>\n\n{admonition(kind, title, body)}\n</div>\n'


def point_label(params: dict[str, int], lang: str) -> str:
    return ", ".join(f"{md_text(t(lang, k))} {md_text(v)}" for k, v in params.items())


def point_spec(kind: str, spec: str | None, shape: str) -> tuple[list[str], dict[str, int]]:
    """``A:B[:C]@key=value,...`` split into its ``shape``'s parts and the point's parameters."""
    try:
        target, _, where = (spec or "").partition("@")
        parts = target.split(":")
        params = {k: int(v) for k, v in (kv.split("=") for kv in where.split(",") if kv)}
    except ValueError:
        parts = []
    if len(parts) != shape.count(":") + 1:
        raise MarkerError(f"bench:{kind} {spec!r}: expected {shape}[@key=value,...]")
    return parts, params


def metric(key: str, value: float) -> str:
    if key.startswith("cosine"):
        return f"{value:.6f}"
    return f"{value:.2%}"


def quality_text(metrics: dict[str, Any], lang: str) -> str:
    shown = [k for k in metrics if not k.startswith("n_")]
    return "; ".join(f"{md_text(t(lang, k))} {metric(k, metrics[k])}" for k in shown)


def headline_quality(metrics: dict[str, Any], lang: str) -> str:
    """The quality metrics a speed table shows beside its figures."""
    return quality_text({k: v for k, v in metrics.items() if k in HEADLINE_METRICS}, lang)


def labels(result: ExperimentResult, lang: str) -> dict[str, str]:
    """Each variant's label, escaped (a label is read from the results file)."""
    return {v["name"]: md_text(v.get(f"label_{lang}", v["label"])) for v in result.config["variants"]}


def interval_level(speeds: Any) -> str:
    """The level(s) of the stored intervals, as printed: ``87.5%``, or ``87.5%/96.9%``."""
    levels = sorted({interval_label(s.get("confidence")) for s in speeds if s})
    return "/".join(levels) if levels else "?"


def speedup_tip(speed: dict[str, Any], lang: str) -> str:
    """A paired speedup with its interval in a tooltip, not in the sentence."""
    level = f"{interval_level([speed])} " if speed.get("confidence") is not None else ""
    title = html.escape(f"{level}{t(lang, 'ci')} [{speed['ci_low']:.2f}, {speed['ci_high']:.2f}]", quote=True)
    return f'<abbr class="bench-interval" title="{title}">{speed["median"]:.2f}×</abbr>'


def speedup_header(lang: str, speeds: Any) -> str:
    speeds = [s for s in speeds if s]
    if not speeds:
        return t(lang, "speedup")
    return t(lang, "speedup_level").format(level=interval_level(speeds))


def speedup_cell(speed: dict[str, Any], bold: bool = False) -> str:
    figure = f"{speed['median']:.2f}×"
    return f"{'**' + figure + '**' if bold else figure} [{speed['ci_low']:.2f}, {speed['ci_high']:.2f}]"


def tail_cell(latency: dict[str, Any], key: str, lang: str) -> str:
    """A tail percentile, or a dash with the sample size when too few calls support it."""
    if percentile_supported(latency, key):
        return fmt(latency[key])
    return t(lang, "too_few_calls").format(n=md_text(latency.get("count", "?")), need=MIN_CALLS[key])
