"""Synthetic stored results for rule tests: the fields a judge reads, nothing more."""

from __future__ import annotations

from typing import Any

from benchmarks.results import ExperimentResult


def result(
    experiment: str,
    workload: str,
    variants: dict[str, dict[str, Any]],
    points: list[tuple[dict[str, int], dict[str, float]]],
    baseline: str | None = None,
    interval: float = 0.0,
) -> ExperimentResult:
    """A stored result: ``variants`` maps a name to its ``info``/``quality`` records; ``points``
    gives, per measured point, each candidate's median paired speedup (the baseline's is implied).
    ``interval`` widens each speedup into [median - interval, median + interval]."""
    baseline = baseline or next(iter(variants))
    entries = []
    for params, speedups in points:
        rows: dict[str, Any] = {baseline: {"latency": {"p50": 1.0, "count": 100}, "throughput_per_s": 1000.0}}
        for name, figure in speedups.items():
            rows[name] = {
                "latency": {"p50": 1.0 / figure, "count": 100},
                "throughput_per_s": 1000.0 * figure,
                "speedup": {
                    "median": figure,
                    "ci_low": figure - interval,
                    "ci_high": figure + interval,
                    "confidence": 0.9,
                    "rounds": 8,
                },
            }
        entries.append({"params": params, "variants": rows})
    return ExperimentResult(
        experiment=experiment,
        status="ok",
        profile="toy",
        config={"workload": workload, "baseline": baseline},
        machine={},
        cache_key="synthetic",
        variants={name: {"info": {}, "quality": {}, **record} for name, record in variants.items()},
        points=entries,
    )
