"""The timing loop and the only place where statistics are computed.

Every experiment measures through ``measure_round`` and summarises through
``LatencyStats.from_values`` and ``PairedSpeedup.from_rounds``, so every figure
on the site is computed the same way. A speedup is the median of per-round ratios
(baseline round median over candidate round median); its interval's level is the
exact one for the number of rounds; a tail percentile is shown only when its sample
holds ``MIN_CALLS`` calls.
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
    round_warmup_s: float = field(
        default=0.0,
        metadata={"help": "untimed seconds of calls starting every round (at least one call when > 0)"},
    )
    reference_min_s: float | None = field(
        default=None,
        metadata={"help": "timed seconds per round at a workload's reference point; None: min_s"},
    )

    def __post_init__(self) -> None:
        if self.warmup_iters < 0 or self.warmup_s < 0 or self.round_warmup_s < 0:
            raise ValueError("warm-up must be non-negative")
        if self.reference_min_s is not None and self.reference_min_s < self.min_s:
            raise ValueError("reference rounds must be at least as long as the others")
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


def measure_round(
    fn: Callable[[], object], settings: MeasureSettings, reference: bool = False, call_ms: float | None = None
) -> list[float]:
    """Time single calls of ``fn`` until the minimum count and duration are both reached.

    A round first calls ``fn`` untimed for ``round_warmup_s``: rounds interleave
    variants, so the first calls of a round follow another worker's and meet cold
    caches and sleeping threads, which no user's steady stream of calls meets. At a
    workload's reference point (``reference``), the one that verdicts and recipes
    read, a round lasts ``reference_min_s``: seconds of calls, not a handful. A call
    known (``call_ms``, from the rounds before) to outlast the warm-up on its own is not
    repeated for it: what a cold start costs is small beside such a call, and a stream of
    requests taking seconds would otherwise add one call per round.

    Returns the raw per-call latencies in milliseconds.
    """
    if settings.round_warmup_s > 0 and (call_ms is None or call_ms < 1000 * settings.round_warmup_s):
        start = time.perf_counter()
        fn()
        while time.perf_counter() - start < settings.round_warmup_s:
            fn()
    min_s = settings.reference_min_s if reference and settings.reference_min_s is not None else settings.min_s
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < settings.max_iters and (
        len(samples) < settings.min_iters or time.perf_counter() - start < min_s
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


# A tail percentile is shown, and judged, only when its sample holds enough calls:
# with fewer, the percentile is one or two of the slowest calls, or an interpolation
# between them, and says little about the tail. About ten calls beyond p90 and one
# beyond p99 are the least that make those figures more than the maximum.
MIN_CALLS = {"p50": 1, "p90": 20, "p99": 100}


def percentile_supported(latency: dict, key: str) -> bool:
    """Whether a stored latency summary holds enough calls to show its ``key`` percentile.

    ``latency`` is ``LatencyStats.to_dict()``; a summary without a count (older results)
    supports only the median."""
    if key not in MIN_CALLS:
        raise ValueError(f"unknown percentile {key!r}; known: {', '.join(MIN_CALLS)}")
    count = latency.get("count")
    if count is None:
        return key == "p50"
    return int(count) >= MIN_CALLS[key]


def supported_tail(latency: dict) -> str:
    """The highest percentile (p99, p90 or p50) that the sample holds enough calls for."""
    return next(k for k in ("p99", "p90", "p50") if percentile_supported(latency, k))


def tail_figure(latency: dict) -> tuple[str, float, int]:
    """The tail figure a latency verdict may be judged on, as (name, ms, calls): the p99
    when the sample holds enough calls for it, else the p90, else the slowest call
    measured ("max": every call of the sample, a conservative stand-in)."""
    tail = supported_tail(latency)
    count = int(latency.get("count", 0))
    if tail == "p50":
        return "max", float(latency.get("max", latency["p50"])), count
    return tail, float(latency[tail]), count


def median_interval_level(n: int, k: int) -> float:
    """Exact coverage of [x_(k), x_(n+1-k)] (order statistics, 1-based) for the median.

    For independent draws from any continuous distribution, the number of draws below
    the true median is Binomial(n, 1/2); the interval misses it when fewer than k lie
    on one side, so its level is 1 - 2 P(B <= k - 1), whatever the distribution."""
    if n < 1 or not 1 <= k <= (n + 1) // 2:
        raise ValueError(f"need n >= 1 and 1 <= k <= (n + 1) // 2, got n={n}, k={k}")
    tail = sum(math.comb(n, i) for i in range(k)) / 2**n
    return max(0.0, 1.0 - 2.0 * tail)


def median_interval(values: Sequence[float], target: float = 0.95) -> tuple[float, float, float]:
    """The narrowest order-statistic interval for the median whose exact level reaches
    ``target``, or the widest one there is (min to max) when ``n`` is too small for it.

    Returns (low, high, level); ``level`` is the interval's real coverage, so a reader
    sees, for example, 87.5% for min to max of 4 rounds and 96.9% for 6 rounds."""
    arr = np.sort(np.asarray(values, dtype=float))
    n = int(arr.size)
    if n == 0:
        raise ValueError("no values")
    k = 1
    while k + 1 <= (n + 1) // 2 and median_interval_level(n, k + 1) >= target:
        k += 1
    return float(arr[k - 1]), float(arr[n - k]), median_interval_level(n, k)


@dataclass(frozen=True)
class PairedSpeedup:
    """Speedup of a candidate over a baseline from interleaved rounds.

    One definition everywhere: each round yields one ratio, the baseline's median call
    in that round over the candidate's median call in the same round, taken seconds
    apart, so slow drifts of a shared machine cancel. The speedup is the median of
    those per-round ratios. The interval is the order-statistic (binomial) interval of
    that median: its level is exact for the number of rounds and is stored in
    ``confidence`` (a percentile bootstrap of the median of 4 ratios gives about their
    min-max range, whose real level is 87.5%, not the 95% it would be labelled).
    """

    median: float
    ci_low: float
    ci_high: float
    confidence: float
    rounds: int
    ratios: list[float]
    method: str = "order-statistic interval of the median (binomial, exact level)"

    @classmethod
    def from_rounds(
        cls,
        baseline_rounds: Sequence[Sequence[float]],
        candidate_rounds: Sequence[Sequence[float]],
        target: float = 0.95,
    ) -> PairedSpeedup:
        if len(baseline_rounds) != len(candidate_rounds) or not baseline_rounds:
            raise ValueError("need the same, non-zero number of rounds for both variants")
        ratios = [
            statistics.median(b) / statistics.median(c)
            for b, c in zip(baseline_rounds, candidate_rounds, strict=True)
        ]
        low, high, level = median_interval(ratios, target)
        return cls(
            median=float(np.median(ratios)),
            ci_low=low,
            ci_high=high,
            confidence=level,
            rounds=len(ratios),
            ratios=[float(r) for r in ratios],
        )

    def to_dict(self) -> dict:
        return asdict(self)


def interval_label(confidence: float | None) -> str:
    """How a stored interval's level is printed: ``87.5%`` (one decimal only when needed)."""
    if confidence is None:
        return "?"
    pct = 100 * confidence
    return f"{pct:.0f}%" if abs(pct - round(pct)) < 0.05 else f"{pct:.1f}%"
