"""What a reader can take away: each page's results files, and each file as a flat CSV table."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from benchmarks import machines as machines_mod
from benchmarks import results as results_mod
from benchmarks.report.escape import csv_cell
from benchmarks.report.strings import START_HERE, t
from benchmarks.results import ExperimentResult


def results_frame(result: ExperimentResult, machine: str | None = None) -> pd.DataFrame:
    """One row per point and variant: latency, throughput, speedup and quality, for download.

    ``machine`` names the machine that measured it (the ``machine`` column): its id from the
    result's machine card when not given."""
    machine = machine or str(result.machine.get("machine_id") or "unknown")
    rows = []
    for point in result.points:
        for name, entry in point["variants"].items():
            speed = entry.get("speedup") or {}
            rows.append(
                {
                    "machine": machine,
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


def machines_frame(result: ExperimentResult, directory: Path | None = None) -> pd.DataFrame:
    """This build's ``result`` (its rows labelled with this machine's id) followed by the rows of
    the same experiment from every imported machine (``benchmarks.machines``), each labelled
    with that machine's id: one table to compare machines in a spreadsheet."""
    frames = [results_frame(result)]
    imported = machines_mod.machines_dir(directory)
    folders = sorted(p for p in imported.iterdir() if not p.name.startswith(".")) if imported.is_dir() else []
    for folder in folders:
        machine = machines_mod.load_machine(folder)
        other, _ = results_mod.load_experiment(result.experiment, machine.directory)
        if other is not None and other.status == "ok":
            frames.append(results_frame(other, machine.id))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


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
