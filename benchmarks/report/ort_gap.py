"""``bench:ort-gap WORKLOAD``: ONNX Runtime's speed over PyTorch eager at the workload's reference
point, split into kernels, graph optimisations, export and tuning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from benchmarks import workloads
from benchmarks.harness import interval_label
from benchmarks.report.escape import md_code
from benchmarks.report.markup import MarkerError, admonition, bench_table, markdown_table, point_label
from benchmarks.report.strings import t

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer


def _factor(step: Any) -> str:
    if step.ci_low is None:
        return f"{step.median:.2f}×"
    level = interval_label(step.confidence)
    return f"{step.median:.2f}× [{step.ci_low:.2f}, {step.ci_high:.2f}] ({level})"


def ort_gap(page: Renderer, workload: str | None, lang: str) -> str:
    """ONNX Runtime's speed over PyTorch eager at the workload's reference point, split into
    kernels, graph optimisations, export and tuning: is a difference the maths library or
    the export?"""
    from benchmarks.claims import onnxruntime

    if workload not in workloads.WORKLOADS:
        raise MarkerError(f"unknown workload {workload!r}; known: {', '.join(workloads.WORKLOADS)}")
    steps = onnxruntime.gap_steps(page.all_ok(), workload)
    page.used.update(s.experiment for s in steps if s.experiment in page.experiments)
    if not steps:
        return admonition("info", t(lang, "not_measured"), t(lang, "gap_none").format(w=workload))
    rows = [
        {
            t(lang, "gap_step"): t(lang, f"gap_{s.key}"),
            t(lang, "gap_compared"): f"{md_code(s.compared)} ({md_code(s.experiment)})",
            t(lang, "gap_factor"): _factor(s),
        }
        for s in steps
    ]
    text = bench_table(markdown_table(pd.DataFrame(rows)))
    top = onnxruntime.largest_factor(steps)
    if top is not None:
        low = top.median if top.ci_low is None else top.ci_low
        high = top.median if top.ci_high is None else top.ci_high
        direction = t(lang, "faster" if low > 1.0 else "slower" if high < 1.0 else "no_direction")
        point = point_label(onnxruntime.gap_point(page.all_ok(), workload) or {}, lang)
        largest = t(lang, "gap_largest").format(
            point=point,
            step=t(lang, f"gap_{top.key}").split(" (")[0].split("(")[0],
            factor=_factor(top),
            direction=direction,
        )
        text += "\n" + largest + "\n"
    return text
