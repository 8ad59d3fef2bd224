"""The markers a page may hold, ``<!-- bench:KIND ARG -->``, each mapped to the function that
renders it (as mkdocs-material's ``hooks/shortcodes.py`` maps ``<!-- md:... -->``).

A marker function takes the page's renderer, the marker's argument (or None) and the page's
language, and returns Markdown. An unknown kind raises ``MarkerError``: the build fails rather
than show a page with a hole in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from benchmarks.report import (
    build,
    charts,
    consistency,
    inline,
    machines,
    ort_gap,
    overview,
    recipes,
    roofline,
    start_here,
    tables,
    tradeoff,
    training,
    verdict,
)
from benchmarks.report.markup import MarkerError

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

    Marker = Callable[[Renderer, str | None, str], str]

MARKER = re.compile(r"<!--\s*bench:(?P<kind>[a-z-]+)(?:\s+(?P<arg>[^\s>]+))?\s*-->")

MARKERS: dict[str, Marker] = {
    "table": tables.table,
    "chart": charts.latency_chart,
    "speedup": charts.speedup_chart,
    "quality": tables.quality,
    "machine": build.machine,
    "releases": build.releases,
    "verdict": verdict.verdict,
    "headline": overview.headline,
    "comparison": overview.comparison,
    "tradeoff": tradeoff.tradeoff,
    "roofline": roofline.roofline,
    "recipes": recipes.recipes,
    "figure": inline.figure,
    "direction": inline.direction,
    "card": build.card,
    "settings": build.settings,
    "durations": build.durations,
    "verdicts": verdict.verdicts,
    "consistency": consistency.consistency,
    "ort-gap": ort_gap.ort_gap,
    "training": training.training,
    "start-here": start_here.start_here,
    "decide": start_here.decide,
    "machines": machines.machines_table,
    "machine-headlines": machines.machine_headlines,
    "machine-verdicts": machines.machine_verdicts,
    "across-machines": machines.across_machines,
}

# Markers that render a word or a figure inside a sentence (or a table cell), not a block.
INLINE_KINDS = ("figure", "direction", "card")


def get(kind: str) -> Marker:
    """The function that renders ``bench:KIND``."""
    if kind not in MARKERS:
        raise MarkerError(f"unknown marker kind bench:{kind}; known: {', '.join(MARKERS)}")
    return MARKERS[kind]
