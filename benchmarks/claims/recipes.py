"""The recipes page's rule: the recipe is chosen from the results, never by hand.

``select`` takes the fastest recipe candidate that meets the workload's quality bar
against the fastest peer within the same bar (what a reader would use instead),
and the ratio of the two from their paired rounds; ``TARGETS`` is how much faster
the recipe should be. ``compute_precision`` and ``achieved`` place each variant against this
machine's peaks (``benchmarks.claims.peaks``); ``outcome`` judges a point against its target
and names the measured reasons for a miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.engines.openvino import precision_class
from benchmarks.harness import PairedSpeedup
from benchmarks.results import ExperimentResult
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER
from benchmarks.techniques.recipes import CANDIDATE, PEER


@dataclass(frozen=True)
class Target:
    """How much faster than the fastest peer within the bar the recipe should be, at every point
    of the grid (benchmark targets, reported on the page, never a failed build).

    ``goal``: the ratio the recipe aims at (judged on the median of the paired per-round ratios).
    ``floor``: when set, the lower end of the ratio's interval must reach it for the target to be
    met (the recipe at least matches the peer); when None, the median must reach ``goal``.
    """

    goal: float
    floor: float | None = None


TARGETS = {
    "minilm": Target(goal=1.25),
    "digits-cnn": Target(goal=1.25, floor=1.0),
    "resnet50": Target(goal=1.25, floor=1.0),
}

# Thresholds that name why a recipe misses its goal (each compares two measured figures).
OVERHEAD_SHARE = 0.2  # an empty call through the recipe's engine costs this share of its latency
# The weights and inputs streamed once per call reach this share of the measured DRAM bandwidth.
# Weights that fit in the last-level cache (from the machine card) need not come from DRAM, and a
# rate above CACHE_SHARE of DRAM bandwidth cannot: then bandwidth names no limit.
BANDWIDTH_SHARE, CACHE_SHARE = 0.5, 1.2
PEAK_SHARE = 0.5  # the recipe reaches this share of the matrix-multiply peak at its precision


# ---- selection (reads stored results only) ----------------------------------------------------


def role(result: ExperimentResult, variant: str) -> str | None:
    for spec in result.config["variants"]:
        if spec["name"] == variant:
            return spec["options"].get("role")
    raise KeyError(variant)


@dataclass(frozen=True)
class Entry:
    variant: str
    role: str
    p50_ms: float
    p90_ms: float
    throughput_per_s: float
    speedup: float
    meets_bar: bool
    quality: dict[str, Any]
    one_time_s: float
    round_medians: list[float]


@dataclass(frozen=True)
class Selection:
    params: dict[str, int]
    entries: list[Entry]
    recipe: Entry | None
    peer: Entry | None
    ratio: PairedSpeedup | None  # the recipe over the fastest peer, from their paired rounds


def entries(result: ExperimentResult, params: dict[str, int]) -> list[Entry]:
    from benchmarks import workloads

    module = workloads.get(result.config["workload"])
    measured = next(p for p in result.points if p["params"] == params)
    base_quality = result.variants[PYTORCH_EAGER.name].get("quality", {})
    found = []
    for name, row in measured["variants"].items():
        if name == PYTORCH_EAGER.name:
            continue
        quality = result.variants[name].get("quality", {})
        costs = result.one_time_costs.get(name, {})
        found.append(
            Entry(
                variant=name,
                role=role(result, name) or PEER,
                p50_ms=row["latency"]["p50"],
                p90_ms=row["latency"]["p90"],
                throughput_per_s=row["throughput_per_s"],
                speedup=row["speedup"]["median"],
                meets_bar=bool(quality) and module.meets_bar(quality, base_quality),
                quality=quality,
                one_time_s=float(sum(v for v in costs.values() if isinstance(v, int | float))),
                round_medians=row["round_medians"],
            )
        )
    return found


# --8<-- [start:select]
def select(result: ExperimentResult, params: dict[str, int] | None = None) -> Selection:
    """The fastest candidate within the bar against the fastest peer within the bar.

    "Fastest" is the largest paired speedup over PyTorch eager FP32 (as everywhere on the
    site); the ratio of recipe to peer is then the median of their per-round ratios.
    """
    from benchmarks import workloads

    if params is None:  # the reference point, or the first one where the grid lacks it (toy)
        measured = [p["params"] for p in result.points]
        reference = workloads.get(result.config["workload"]).REFERENCE_POINT
        params = reference if reference in measured else measured[0]
    found = entries(result, params)

    def fastest(kind: str) -> Entry | None:
        pool = [e for e in found if e.role == kind and e.meets_bar]
        return max(pool, key=lambda e: e.speedup, default=None)

    recipe, peer = fastest(CANDIDATE), fastest(PEER)
    ratio = None
    if recipe and peer:
        ratio = PairedSpeedup.from_rounds(
            [[m] for m in peer.round_medians], [[m] for m in recipe.round_medians]
        )
    return Selection(params, found, recipe, peer, ratio)


# --8<-- [end:select]


# ---- the page (reads stored results only) -------------------------------------------------------


def compute_precision(info: dict[str, Any]) -> str:
    """What a variant's heavy layers computed in: its own record, else OpenVINO's runtime report."""
    if "compute_precision" in info:
        return info["compute_precision"]
    if info.get("heavy_layer_precisions"):
        return precision_class(info["heavy_layer_precisions"])
    return "int8" if "int8" in str(info.get("precision", "")) else "fp32"


def achieved(result: ExperimentResult, entry: Entry, params: dict[str, int]) -> float | None:
    """GFLOP/s a variant achieved: the FP32 model's FLOPs at this shape over its p50 latency."""
    from benchmarks.points import shape_key

    flops = result.variants[PYTORCH_EAGER.name]["info"].get("flops_per_item", {}).get(shape_key(params))
    if flops is None:
        return None
    return flops * params.get("batch", 1) / entry.p50_ms / 1e6


# ---- targets and the measured reasons for a miss (reads stored results only) --------------------


def engine_of(info: dict[str, Any]) -> str:
    """The engine whose kernels ran a variant (a sentence-transformers backend names its engine)."""
    engine = str(info.get("engine", ""))
    if engine.startswith("sentence-transformers"):
        return {"onnx": "onnxruntime", "openvino": "openvino", "torch": "pytorch"}.get(
            info.get("backend", ""), engine
        )
    return engine


@dataclass(frozen=True)
class Reason:
    """A measured reason a recipe misses its goal: ``kind`` names it, ``figures`` carry the numbers."""

    kind: str  # "overhead", "bandwidth", "same-kernels", "peak", "unexplained"
    figures: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    selection: Selection
    target: Target | None
    met: bool | None  # None: no ratio (no recipe or no peer within the bar) or no target
    goal_met: bool | None
    reasons: list[Reason]


def traffic_bytes(result: ExperimentResult, entry: Entry, params: dict[str, int]) -> float | None:
    """Bytes a call must stream at least: the weights at the variant's precision, plus inputs and outputs."""
    from benchmarks.points import shape_key

    io = result.variants[PYTORCH_EAGER.name]["info"].get("io_bytes_per_item", {}).get(shape_key(params))
    weights = weight_bytes(result, entry)
    if io is None or weights is None:
        return None
    return weights + io * params.get("batch", 1)


def weight_bytes(result: ExperimentResult, entry: Entry) -> float | None:
    """The model's weights at the variant's precision, in bytes."""
    params = result.variants[PYTORCH_EAGER.name]["info"].get("params")
    if params is None:
        return None
    width = {"fp32": 4, "bf16": 2, "int8": 1}.get(
        compute_precision(result.variants[entry.variant]["info"]), 4
    )
    return float(width * params)


def reasons(
    result: ExperimentResult,
    chosen: Selection,
    overhead_ms: dict[str, float],
    peak: dict[str, float],
    bandwidth_gb_s: float | None,
) -> list[Reason]:
    """Every measured limit that applies to the recipe at this point; "unexplained" when none does."""
    recipe, peer = chosen.recipe, chosen.peer
    if recipe is None or peer is None:
        return []
    info = result.variants[recipe.variant]["info"]
    engine, precision = engine_of(info), compute_precision(info)
    found = []
    if (empty := overhead_ms.get(engine)) is not None and empty >= OVERHEAD_SHARE * recipe.p50_ms:
        found.append(
            Reason(
                "overhead",
                {
                    "engine": engine,
                    "empty_ms": empty,
                    "p50_ms": recipe.p50_ms,
                    "share": empty / recipe.p50_ms,
                },
            )
        )
    traffic = traffic_bytes(result, recipe, chosen.params)
    cache = result.machine.get("last_level_cache_bytes")
    weights = weight_bytes(result, recipe)
    in_cache = isinstance(cache, int) and weights is not None and weights <= cache
    if traffic and bandwidth_gb_s and not in_cache:
        streamed = traffic / recipe.p50_ms / 1e6
        if BANDWIDTH_SHARE * bandwidth_gb_s <= streamed <= CACHE_SHARE * bandwidth_gb_s:
            found.append(
                Reason(
                    "bandwidth",
                    {"gb_s": streamed, "bandwidth_gb_s": bandwidth_gb_s, "share": streamed / bandwidth_gb_s},
                )
            )
    peer_info = result.variants[peer.variant]["info"]
    if engine and engine_of(peer_info) == engine and compute_precision(peer_info) == precision:
        found.append(Reason("same-kernels", {"engine": engine, "precision": precision}))
    gflop_s = achieved(result, recipe, chosen.params)
    if gflop_s and precision in peak and gflop_s >= PEAK_SHARE * peak[precision]:
        found.append(
            Reason(
                "peak",
                {
                    "gflop_s": gflop_s,
                    "peak": peak[precision],
                    "share": gflop_s / peak[precision],
                    "precision": precision,
                },
            )
        )
    return found or [Reason("unexplained", {})]


def outcome(
    result: ExperimentResult,
    params: dict[str, int] | None = None,
    overhead_ms: dict[str, float] | None = None,
    peak: dict[str, float] | None = None,
    bandwidth_gb_s: float | None = None,
) -> Outcome:
    """The recipe against its target at one point, with the measured reasons when it misses the goal."""
    chosen = select(result, params)
    target = TARGETS.get(result.config["workload"])
    ratio = chosen.ratio
    if target is None or ratio is None:
        return Outcome(chosen, target, None, None, [])
    goal_met = ratio.median >= target.goal
    met = ratio.ci_low >= target.floor if target.floor is not None else goal_met
    why = [] if goal_met else reasons(result, chosen, overhead_ms or {}, peak or {}, bandwidth_gb_s)
    return Outcome(chosen, target, met, goal_met, why)


def outcomes(result: ExperimentResult, **limits: Any) -> list[Outcome]:
    """``outcome`` at every point the experiment measured, in grid order."""
    return [outcome(result, point["params"], **limits) for point in result.points]
