"""What a reader can take away: each page's results files, and each file as a flat CSV table."""

from __future__ import annotations

import html

import pandas as pd

from benchmarks import results as results_mod
from benchmarks.report.escape import csv_cell
from benchmarks.report.strings import START_HERE, t
from benchmarks.results import ExperimentResult


def results_frame(result: ExperimentResult) -> pd.DataFrame:
    """One row per point and variant: latency, throughput, speedup and quality, for download."""
    rows = []
    for point in result.points:
        for name, entry in point["variants"].items():
            speed = entry.get("speedup") or {}
            rows.append(
                {
                    "experiment": result.experiment,
                    **{f"param_{k}": v for k, v in point["params"].items()},
                    "variant": name,
                    **{
                        f"latency_{k}_ms": entry["latency"][k] for k in ("p50", "p90", "p99", "mean", "stdev")
                    },
                    "latency_cv": entry["latency"]["cv"],
                    "throughput_per_s": entry["throughput_per_s"],
                    "speedup_median": speed.get("median"),
                    "speedup_ci_low": speed.get("ci_low"),
                    "speedup_ci_high": speed.get("ci_high"),
                    **{
                        f"quality_{k}": v for k, v in result.variants.get(name, {}).get("quality", {}).items()
                    },
                    "threads": result.config.get("threads"),
                    "profile": result.profile,
                    "started": result.started,
                    "commit": result.machine.get("commit"),
                }
            )
    return pd.DataFrame([{csv_cell(k): csv_cell(v) for k, v in row.items()} for row in rows])


def download_links(experiments: set[str], lang: str, prefix: str) -> str:
    """A folded box listing the JSON and CSV files behind a page's figures (collapsed: the
    title shows, the list opens on a click)."""
    items = []
    for exp in sorted(experiments):
        base = prefix + "results/" + results_mod.file_name(exp)[: -len(".json")]
        exp, base = html.escape(exp), html.escape(base)
        items.append(
            f'    - <code>{exp}</code>: <a href="{base}.json">JSON</a> · <a href="{base}.csv">CSV</a>'
        )
    title = START_HERE[lang]["results_title"].replace('"', "'")
    return (
        f'\n\n??? info bench-downloads "{title}"\n\n'
        f"    {t(lang, 'downloads_body')}\n\n" + "\n".join(items) + "\n"
    )
