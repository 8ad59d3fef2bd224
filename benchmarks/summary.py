"""Across experiments: every measured variant of a workload at its reference point.

The home page, the comparison table and the trade-off charts read this, so the
"best measured speedup" is chosen by one rule everywhere: the largest paired
speedup over PyTorch eager FP32 (measured in the same run) among variants that
meet the workload's quality bar (``QUALITY_BAR`` in its module).

A technique's own variants are told from the comparators its experiments also
time (ONNX Runtime FP32 beside the INT8 variants, a student trained on labels
only beside the distilled one): see ``is_own_variant``.

It also measures the build against itself (``consistency``): the same
configuration timed in several experiments of one build should give the same
p50, and the same paired speedup over the plain eager baseline that each of those
experiments timed beside it. The p50s were taken minutes apart, so their spread
holds the machine's drift as well; the speedups' spread does not, and it is the
resolution below which a verdict, which compares speedups, cannot tell two
figures apart (``within_build_spread``).
"""

from __future__ import annotations

import functools
import importlib
import json
import statistics
from dataclasses import dataclass, field
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
    confidence: float | None  # the interval's level; None in results written before it was stored
    quality: dict[str, Any]
    baseline_quality: dict[str, Any]
    meets_bar: bool
    one_time_s: float
    size_ratio: float | None
    own: bool = True  # a variant of the experiment's technique, not a comparator or control

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


def candidates(
    results: dict[str, ExperimentResult], workload: str, params: dict[str, int] | None = None
) -> list[Candidate]:
    """Each non-baseline variant of the workload at its reference point (or at ``params``)."""
    module = workloads.get(workload)
    where = module.REFERENCE_POINT if params is None else params
    found = []
    for name, result in results.items():
        if result.config.get("workload") != workload or result.config.get("baseline") != BASELINE:
            continue
        labels = {v["name"]: v for v in result.config["variants"]}
        base_quality = result.variants.get(BASELINE, {}).get("quality", {})
        base_size = result.variants.get(BASELINE, {}).get("info", {}).get("model_mb")
        for point in result.points:
            if point["params"] != where:
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
                        confidence=entry["speedup"].get("confidence"),
                        quality=quality,
                        baseline_quality=base_quality,
                        meets_bar=bool(quality) and module.meets_bar(quality, base_quality),
                        one_time_s=_one_time_s(result.one_time_costs.get(variant, {})),
                        size_ratio=size / base_size if size and base_size else None,
                        own=is_own_variant(name, variant),
                    )
                )
    return found


def best(found: list[Candidate], within_bar: bool = True) -> Candidate | None:
    pool = [c for c in found if c.meets_bar or not within_bar]
    return max(pool, key=lambda c: c.speedup, default=None)


def ranked(found: list[Candidate], within_bar: bool = True) -> list[Candidate]:
    """The candidates that compete (within the bar, unless told otherwise), fastest first."""
    pool = [c for c in found if c.meets_bar or not within_bar]
    return sorted(pool, key=lambda c: c.speedup, reverse=True)


# ---- which variants are the technique's own -------------------------------------------------

# Option values that mark a variant as a control run beside the technique, not the
# technique itself (a student trained on labels only, or an untrained copy, beside
# the distilled one).
CONTROL_OPTIONS = {"distil": False, "control": True}


@functools.cache
def _techniques_by_module() -> dict[str, frozenset[str]]:
    """Builder module -> the techniques whose experiments that module declares."""
    from benchmarks.experiments import technique_modules

    found = {}
    for name in technique_modules():
        module = importlib.import_module(name)
        found[name] = frozenset(e.technique for e in getattr(module, "EXPERIMENTS", ()))
    return found


def is_own_variant(experiment: str, variant: str) -> bool:
    """Whether ``variant`` of ``experiment`` applies the experiment's technique.

    Its builder must live in a module that declares experiments of that technique (so
    ONNX Runtime FP32, built by the ONNX Runtime module, is no quantization variant, and
    PyTorch eager, built by the shared engines, belongs to none), and its options must
    not mark it as a control (``CONTROL_OPTIONS``). A variant that no declared
    experiment names (a synthetic result) counts as the technique's own."""
    exp = all_experiments().get(experiment)
    spec = next((v for v in exp.variants if v.name == variant), None) if exp else None
    if spec is None:
        return True
    module = spec.builder.partition(":")[0]
    if exp is None or exp.technique not in _techniques_by_module().get(module, frozenset()):
        return False
    return not any(spec.options.get(k, object()) == v for k, v in CONTROL_OPTIONS.items())


# ---- one build against itself ----------------------------------------------------------------


@dataclass(frozen=True)
class Repeat:
    """One configuration (workload, builder, options, point, threads, profile) that
    several experiments of the build timed, with each experiment's p50."""

    workload: str
    variant: str
    label: str
    label_zh: str
    params: dict[str, int]
    threads: int | None
    p50_ms: dict[str, float]  # experiment -> p50
    # experiment -> paired speedup over that experiment's plain eager baseline (experiments
    # whose baseline is another configuration have none)
    speedups: dict[str, float] = field(default_factory=dict)

    @property
    def spread(self) -> float:
        """Slowest p50 over fastest, minus one: 0.10 means the slowest was 10% slower."""
        return max(self.p50_ms.values()) / min(self.p50_ms.values()) - 1.0

    @property
    def speedup_spread(self) -> float | None:
        """Largest paired speedup over smallest, minus one; None unless two experiments have one."""
        if len(self.speedups) < 2:
            return None
        return max(self.speedups.values()) / min(self.speedups.values()) - 1.0

    def label_in(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label


def _builder(experiment: str, variant: str) -> str:
    exp = all_experiments().get(experiment)
    spec = next((v for v in exp.variants if v.name == variant), None) if exp else None
    return spec.builder if spec is not None else f"?{variant}"


EAGER_BUILDER = "benchmarks.engines.pytorch:build_pytorch_eager"


def _plain_eager_baseline(name: str, result: ExperimentResult) -> str | None:
    """The name of the experiment's baseline when it is plain PyTorch eager FP32 (no options)."""
    declared = result.config.get("variants", [])
    if not declared:
        return None
    first = declared[0]  # the baseline is declared first
    if _builder(name, first["name"]) != EAGER_BUILDER or first.get("options"):
        return None
    return first["name"]


def consistency(results: dict[str, ExperimentResult]) -> list[Repeat]:
    """Every configuration timed by more than one experiment, most inconsistent first."""
    groups: dict[tuple, dict[str, Any]] = {}
    for name, result in sorted(results.items()):
        declared = {v["name"]: v for v in result.config.get("variants", [])}
        threads = result.config.get("threads")
        eager = _plain_eager_baseline(name, result)
        for point in result.points:
            for variant, entry in point["variants"].items():
                spec = declared.get(variant, {"name": variant, "label": variant})
                key = (
                    result.config.get("workload"),
                    _builder(name, variant),
                    json.dumps(spec.get("options", {}), sort_keys=True, default=str),
                    json.dumps(point["params"], sort_keys=True),
                    threads,
                    result.profile,
                )
                group = groups.setdefault(
                    key,
                    {
                        "workload": result.config.get("workload"),
                        "variant": variant,
                        "label": spec["label"],
                        "label_zh": spec.get("label_zh", spec["label"]),
                        "params": point["params"],
                        "threads": threads,
                        "p50_ms": {},
                        "speedups": {},
                    },
                )
                group["p50_ms"][name] = float(entry["latency"]["p50"])
                if eager is not None and variant != eager and "speedup" in entry:
                    group["speedups"][name] = float(entry["speedup"]["median"])
    repeats = [Repeat(**g) for g in groups.values() if len(g["p50_ms"]) > 1]
    return sorted(repeats, key=lambda r: r.spread, reverse=True)


def p50_spread(results: dict[str, ExperimentResult]) -> float | None:
    """The median p50 spread over the configurations timed more than once (None when none
    was): the build's disagreement with itself, the machine's drift between experiments
    included."""
    spreads = [r.spread for r in consistency(results)]
    return statistics.median(spreads) if spreads else None


def speedup_spread(results: dict[str, ExperimentResult]) -> float | None:
    """The median spread of paired speedups over the same configurations (None when no
    configuration has a speedup in two experiments)."""
    spreads = [r.speedup_spread for r in consistency(results) if r.speedup_spread is not None]
    return statistics.median(spreads) if spreads else None


def build_spread(results: dict[str, ExperimentResult]) -> float | None:
    """The build's resolution for the figures verdicts compare (paired speedups): the
    median speedup spread, or the median p50 spread where no speedup was timed twice."""
    spread = speedup_spread(results)
    return spread if spread is not None else p50_spread(results)


def within_build_spread(a: float, b: float, results: dict[str, ExperimentResult]) -> bool:
    """Whether two figures (latencies or speedups) differ by less than the build's own
    spread, so that a verdict deciding between them hinges on noise: say so there."""
    if a <= 0 or b <= 0:
        raise ValueError("figures must be positive")
    spread = build_spread(results)
    return spread is not None and max(a, b) / min(a, b) - 1.0 < spread
