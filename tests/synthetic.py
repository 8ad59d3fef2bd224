"""Synthetic stored results, the one factory the tests build results with: ``result`` for rule
tests (the fields a judge reads, nothing more) and ``synthetic`` for rendering tests (one point,
with latencies, quality and the config a page reads)."""

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


COSINE_OK = {"cosine_mean": 0.999, "nn_top1_agreement": 0.99, "topic_map_ratio": 1.0}


def synthetic(
    name: str,
    workload: str,
    point: dict,
    variants: dict[str, tuple[float, dict]],
    baseline: str = "pytorch-eager",
) -> ExperimentResult:
    """A stored result: each variant's speedup over the baseline and its quality."""
    names = [baseline, *variants]
    entries = {}
    for variant in names:
        speed, _ = variants.get(variant, (1.0, {}))
        entry = {
            "latency": {"p50": 10.0 / speed, "p90": 11.0 / speed, "p99": 12.0 / speed, "cv": 0.01},
            "throughput_per_s": 100.0 * speed,
        }
        if variant != baseline:
            entry["speedup"] = {"median": speed, "ci_low": speed * 0.98, "ci_high": speed * 1.02}
        entries[variant] = entry
    quality = {baseline: COSINE_OK | {"accuracy": 0.98}} | {v: q for v, (_, q) in variants.items()}
    return ExperimentResult(
        experiment=name,
        status="ok",
        profile="toy",
        config={
            "technique": name.split("/")[0],
            "workload": workload,
            "baseline": baseline,
            "threads": 2,
            "variants": [{"name": v, "label": v, "label_zh": v} for v in names],
        },
        machine={"machine_id": "m", "commit": "abc"},
        cache_key="k",
        variants={v: {"quality": quality[v], "info": {"model_mb": 10.0}} for v in names},
        one_time_costs={v: {"export_s": 1.5} for v in variants},
        points=[{"params": point, "variants": entries}],
    )
