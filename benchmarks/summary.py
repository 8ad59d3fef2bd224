"""Across experiments: every measured variant of a workload at its reference point.

The home page, the comparison table and the trade-off charts read this, so the
"best measured speedup" is chosen by one rule everywhere: the largest paired
speedup over PyTorch eager FP32 (measured in the same run) among variants that
meet the workload's quality bar (``QUALITY_BAR`` in its module).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import results as results_mod
from benchmarks import workloads
from benchmarks.experiments import all_experiments
from benchmarks.results import ExperimentResult

BASELINE = "pytorch-eager"  # only experiments measured against eager FP32 with all cores compare


@dataclass(frozen=True)
class Candidate:
    experiment: str
    technique: str
    workload: str
    variant: str
    label: str
    label_zh: str
    params: dict[str, int]
    p50_ms: float
    baseline_p50_ms: float
    speedup: float
    ci_low: float
    ci_high: float
    quality: dict[str, Any]
    baseline_quality: dict[str, Any]
    meets_bar: bool
    one_time_s: float
    size_ratio: float | None

    def label_in(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label


def ok_results(directory: Path | None = None) -> dict[str, ExperimentResult]:
    """Every stored ok result; an unreadable file raises ResultsError (the build must fail)."""
    found = {}
    for name in sorted(all_experiments()):
        stored, _ = results_mod.load_experiment(name, directory)
        if stored is not None and stored.status == "ok":
            found[name] = stored
    return found


def _one_time_s(costs: dict[str, Any]) -> float:
    return float(sum(v for v in costs.values() if isinstance(v, int | float)))


def candidates(results: dict[str, ExperimentResult], workload: str) -> list[Candidate]:
    """Each non-baseline variant of the workload at its reference point."""
    module = workloads.get(workload)
    found = []
    for name, result in results.items():
        if result.config.get("workload") != workload or result.config.get("baseline") != BASELINE:
            continue
        labels = {v["name"]: v for v in result.config["variants"]}
        base_quality = result.variants.get(BASELINE, {}).get("quality", {})
        base_size = result.variants.get(BASELINE, {}).get("info", {}).get("model_mb")
        for point in result.points:
            if point["params"] != module.REFERENCE_POINT:
                continue
            base = point["variants"][BASELINE]
            for variant, entry in point["variants"].items():
                if variant == BASELINE or "speedup" not in entry:
                    continue
                record = result.variants.get(variant, {})
                quality = record.get("quality", {})
                size = record.get("info", {}).get("model_mb")
                found.append(
                    Candidate(
                        experiment=name,
                        technique=result.config["technique"],
                        workload=workload,
                        variant=variant,
                        label=labels[variant]["label"],
                        label_zh=labels[variant].get("label_zh", labels[variant]["label"]),
                        params=point["params"],
                        p50_ms=entry["latency"]["p50"],
                        baseline_p50_ms=base["latency"]["p50"],
                        speedup=entry["speedup"]["median"],
                        ci_low=entry["speedup"]["ci_low"],
                        ci_high=entry["speedup"]["ci_high"],
                        quality=quality,
                        baseline_quality=base_quality,
                        meets_bar=bool(quality) and module.meets_bar(quality, base_quality),
                        one_time_s=_one_time_s(result.one_time_costs.get(variant, {})),
                        size_ratio=size / base_size if size and base_size else None,
                    )
                )
    return found


def best(found: list[Candidate], within_bar: bool = True) -> Candidate | None:
    pool = [c for c in found if c.meets_bar or not within_bar]
    return max(pool, key=lambda c: c.speedup, default=None)
