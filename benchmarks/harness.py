"""The timing loop and the only place where statistics are computed.

Every experiment measures through ``measure_round`` and summarises through
``LatencyStats.from_values`` and ``PairedSpeedup.from_rounds``, so every figure
on the site is computed the same way.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class MeasureSettings:
    """How long to warm up and to measure; one per profile."""

    warmup_iters: int = field(default=3, metadata={"help": "warm-up calls, at least"})
    warmup_s: float = field(default=0.2, metadata={"help": "warm-up seconds, at least"})
    min_iters: int = field(default=10, metadata={"help": "timed calls per round, at least"})
    min_s: float = field(default=0.3, metadata={"help": "timed seconds per round, at least"})
    max_iters: int = field(default=10_000, metadata={"help": "cap per round, for very fast calls"})
    rounds: int = field(default=5, metadata={"help": "interleaved rounds per variant"})

    def __post_init__(self) -> None:
        if self.warmup_iters < 0 or self.warmup_s < 0:
            raise ValueError("warm-up must be non-negative")
        if self.min_iters < 1 or self.min_s < 0 or self.max_iters < self.min_iters:
            raise ValueError("need 1 <= min_iters <= max_iters and min_s >= 0")
        if self.rounds < 1:
            raise ValueError("rounds must be at least 1")


def warm_up(fn: Callable[[], object], settings: MeasureSettings) -> int:
    """Call ``fn`` until both the warm-up count and the warm-up time are reached."""
    n = 0
    start = time.perf_counter()
    while n < settings.warmup_iters or time.perf_counter() - start < settings.warmup_s:
        fn()
        n += 1
    return n


def measure_round(fn: Callable[[], object], settings: MeasureSettings) -> list[float]:
    """Time single calls of ``fn`` until the minimum count and duration are both reached.

    Returns the raw per-call latencies in milliseconds.
    """
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < settings.max_iters and (
        len(samples) < settings.min_iters or time.perf_counter() - start < settings.min_s
    ):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return samples


@dataclass(frozen=True)
class LatencyStats:
    """Summary of raw latency samples; the raw values travel with it."""

    unit: str
    count: int
    mean: float
    stdev: float
    cv: float
    min: float
    p50: float
    p90: float
    p99: float
    max: float
    values: list[float]

    @classmethod
    def from_values(cls, values: Sequence[float], unit: str = "ms") -> LatencyStats:
        if len(values) == 0:
            raise ValueError("no samples to summarise")
        arr = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(arr)):
            raise ValueError("samples must be finite")
        mean = float(arr.mean())
        stdev = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
        p50, p90, p99 = (float(x) for x in np.percentile(arr, [50, 90, 99]))
        return cls(
            unit=unit,
            count=int(arr.size),
            mean=mean,
            stdev=stdev,
            cv=stdev / mean if mean > 0 else math.nan,
            min=float(arr.min()),
            p50=p50,
            p90=p90,
            p99=p99,
            max=float(arr.max()),
            values=[float(x) for x in arr],
        )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PairedSpeedup:
    """Speedup of a candidate over a baseline from interleaved rounds.

    Each round yields one ratio, baseline median over candidate median, taken
    seconds apart, so slow drifts of a shared machine cancel. The figure is the
    median ratio; the interval is a percentile bootstrap of that median.
    """

    median: float
    ci_low: float
    ci_high: float
    confidence: float
    rounds: int
    ratios: list[float]

    @classmethod
    def from_rounds(
        cls,
        baseline_rounds: Sequence[Sequence[float]],
        candidate_rounds: Sequence[Sequence[float]],
        confidence: float = 0.95,
        resamples: int = 2000,
        seed: int = 0,
    ) -> PairedSpeedup:
        if len(baseline_rounds) != len(candidate_rounds) or not baseline_rounds:
            raise ValueError("need the same, non-zero number of rounds for both variants")
        ratios = np.array(
            [
                statistics.median(b) / statistics.median(c)
                for b, c in zip(baseline_rounds, candidate_rounds, strict=True)
            ]
        )
        rng = np.random.default_rng(seed)
        boot = np.median(rng.choice(ratios, size=(resamples, ratios.size), replace=True), axis=1)
        alpha = (1 - confidence) / 2
        low, high = np.quantile(boot, [alpha, 1 - alpha])
        return cls(
            median=float(np.median(ratios)),
            ci_low=float(low),
            ci_high=float(high),
            confidence=confidence,
            rounds=int(ratios.size),
            ratios=[float(r) for r in ratios],
        )

    def to_dict(self) -> dict:
        return asdict(self)
