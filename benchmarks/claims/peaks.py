"""This machine's peaks per precision, measured and theoretical, and each engine's per-call
overhead: what the recipes page and the roofline hold a variant against.

Reads stored results and machine cards only (no torch, ONNX Runtime or OpenVINO):

- ``peaks(gemm, card)``: per precision, the fastest GEMM any library reached in
  ``roofline/gemm`` (PyTorch's oneDNN/MKL, numpy's BLAS, OpenVINO, ONNX Runtime's MLAS) and
  the theoretical peak of the card (cores x clock x FLOPs per cycle,
  ``benchmarks.machine.theoretical_peak``); ``Peak.best`` is the higher of the two.
- ``overhead_ms(result)``: each engine's p50 for an (almost) empty call (``overhead/empty-call``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from benchmarks.machine import PRECISIONS, TheoreticalPeak, theoretical_peak
from benchmarks.results import ExperimentResult

# Results written before the GEMM variants recorded their compute precision: their dtype says it.
PRECISION_OF_DTYPE = {"float32": "fp32", "bfloat16": "bf16", "int8 x int8 -> int32": "int8"}


@dataclass(frozen=True)
class Peak:
    precision: str
    measured_gflop_s: float | None  # the fastest library's GEMM in roofline/gemm
    measured_by: str | None  # its variant name (e.g. "gemm-int8-onnxruntime")
    theoretical_gflop_s: float | None  # cores x clock x FLOPs per cycle; None when unknown
    theoretical_basis: str | None  # how it was computed, or why there is none (English)
    theoretical_basis_zh: str | None = None  # the same in Chinese
    theoretical_assumed: bool = False  # its per-cycle figure is assumed (see machine.CORE_RATES)

    @property
    def best(self) -> float | None:
        """The higher of the measured and the theoretical peak, whichever exist."""
        known = [v for v in (self.measured_gflop_s, self.theoretical_gflop_s) if v is not None]
        return max(known, default=None)

    def basis(self, lang: str) -> str | None:
        return self.theoretical_basis_zh if lang == "zh" else self.theoretical_basis


def gemm_precision(info: dict[str, Any]) -> str | None:
    """What a roofline/gemm variant computed in: its record, else its dtype; None for neither."""
    precision = info.get("compute_precision")
    if isinstance(precision, str) and precision in PRECISIONS:
        return precision
    return PRECISION_OF_DTYPE.get(str(info.get("dtype")))


def measured_rates(gemm: ExperimentResult | None) -> dict[str, tuple[str, float]]:
    """Each GEMM variant's rate in GFLOP/s (integer operations for int8), with its precision:
    variant -> (precision, GFLOP/s), at the probes' one point."""
    if gemm is None or not gemm.points:
        return {}
    probe = gemm.points[0]["variants"]
    rates = {}
    for name, record in gemm.variants.items():
        info = record.get("info", {})
        precision, flops = gemm_precision(info), info.get("flops_per_call")
        p50 = probe.get(name, {}).get("latency", {}).get("p50")
        if precision is None or not isinstance(flops, int | float) or not isinstance(p50, int | float):
            continue
        if p50 > 0 and math.isfinite(p50):
            rates[name] = (precision, flops / p50 / 1e6)
    return rates


# The words of ``CoreRate.why`` in Chinese (the arithmetic itself reads the same).
WHY_ZH = {"/cycle": "/周期", " cycles": " 周期", " lanes": " 通道", " pairs": " 对", " x ": " × "}


def _basis(theory: TheoreticalPeak, lang: str) -> str:
    """The theoretical peak's arithmetic, or why there is none, in ``lang``."""
    zh = lang == "zh"
    rate = theory.rate
    if theory.gflop_s is None or rate is None:
        reasons = {
            "no per-cycle figure for this CPU": "没有此 CPU 的每周期运算数",
            "core count unknown": "核心数未知",
        }
        reason = theory.reason or ""
        if zh:
            if reason.startswith("clock unknown"):
                return "时钟频率未知:" + reason.partition(": ")[2]
            if reason.startswith("no ") and "instruction" in reason:
                return f"此 CPU 的指令集没有带每周期运算数的 {theory.precision} 指令"
            return reasons.get(reason, reason)
        return reason
    unit = "OP" if theory.precision == "int8" else "FLOP"
    mark = (" (假定)" if zh else " (assumed)") if rate.assumed else ""
    clock = f"{theory.clock_mhz:.0f} MHz ({theory.clock_source})"
    if zh:
        why = rate.why
        for en, zh_word in WHY_ZH.items():
            why = why.replace(en, zh_word)
        text = (
            f"{theory.cores} 核 × {clock} × 每核每周期 {rate.per_cycle} {unit}"
            f"({rate.isa}:{why}{mark};来源:{rate.source})"
        )
        return text + (";无 BF16 指令,以 FP32 路径为上限" if theory.fallback else "")
    text = (
        f"{theory.cores} cores × {clock} × {rate.per_cycle} {unit} per cycle per core "
        f"({rate.isa}: {rate.why}{mark}; source: {rate.source})"
    )
    return text + ("; no BF16 instruction, bounded by the FP32 path" if theory.fallback else "")


def cores_used(gemm: ExperimentResult | None, card: dict[str, Any]) -> int | None:
    """The physical cores the GEMM run used: its threads, at most the card's usable physical cores."""
    physical = card.get("usable_physical_cores")
    physical = physical if isinstance(physical, int) and not isinstance(physical, bool) else None
    threads = (gemm.config.get("threads") if gemm is not None else None) or physical
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        return physical
    return min(threads, physical) if physical else threads


def peaks(gemm: ExperimentResult | None, card: dict[str, Any]) -> dict[str, Peak]:
    """Per precision ("fp32", "bf16", "int8"): the best measured GEMM of ``roofline/gemm`` and the
    theoretical peak of ``card`` (the machine card the GEMMs ran on, ``gemm.machine``)."""
    rates = measured_rates(gemm)
    cores = cores_used(gemm, card)
    found = {}
    for precision in PRECISIONS:
        mine = {name: rate for name, (p, rate) in rates.items() if p == precision}
        by = max(mine, key=lambda n: mine[n], default=None)
        theory = theoretical_peak(card, precision, cores)
        found[precision] = Peak(
            precision=precision,
            measured_gflop_s=mine[by] if by else None,
            measured_by=by,
            theoretical_gflop_s=theory.gflop_s,
            theoretical_basis=_basis(theory, "en"),
            theoretical_basis_zh=_basis(theory, "zh"),
            theoretical_assumed=bool(theory.rate and theory.rate.assumed),
        )
    return found


# ---- per-call overhead ----------------------------------------------------------------------


def overhead_ms(result: ExperimentResult | None) -> dict[str, float]:
    """Each engine's p50 in ms for an (almost) empty call, from ``overhead/empty-call``:
    engine ("pytorch", "onnxruntime", "openvino", "litert") -> p50 at its first point (one
    digits image). Engines whose variant did not run are absent."""
    if result is None or result.status != "ok" or not result.points:
        return {}
    measured = result.points[0]["variants"]
    found = {}
    for name, record in result.variants.items():
        engine = record.get("info", {}).get("engine")
        p50 = measured.get(name, {}).get("latency", {}).get("p50")
        if isinstance(engine, str) and isinstance(p50, int | float) and math.isfinite(p50):
            found[engine] = float(p50)
    return found


# ---- memory bandwidth -------------------------------------------------------------------------


def bandwidth_gb_s(copy: ExperimentResult | None) -> float | None:
    """This machine's measured DRAM bandwidth, GB/s: the best copy probe of ``roofline/bandwidth``
    (the roofline's own reading, ``techniques.roofline.roofline_data``)."""
    from benchmarks.techniques.roofline import roofline_data

    if copy is None or not copy.points:
        return None
    return max(roofline_data({"roofline/bandwidth": copy})["gb_s"].values(), default=None)
