"""The machine card: what ran the numbers, carried inside every result."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

# ISA features that decide which kernels CPU inference engines can use.
ISA_FLAGS = {
    "avx2": "AVX2",
    "fma": "FMA",
    "avx512f": "AVX-512F",
    "avx512bw": "AVX-512BW",
    "avx512_vnni": "AVX-512 VNNI",
    "avx_vnni": "AVX-VNNI",
    "avx512_bf16": "AVX-512 BF16",
    "avx512_fp16": "AVX-512 FP16",
    "amx_tile": "AMX",
    "amx_bf16": "AMX-BF16",
    "amx_int8": "AMX-INT8",
    "asimd": "NEON",
    "sve": "SVE",
}

PACKAGES = (
    "torch",
    "onnxruntime",
    "onnx",
    "transformers",
    "numpy",
    "scikit-learn",
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def _cpuinfo() -> tuple[str, set[str]]:
    model, flags = platform.processor() or platform.machine(), set[str]()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return model, flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "Model Name") and model in ("", platform.machine(), platform.processor()):
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model, flags


def _cpu_identity() -> dict[str, str | int | None]:
    """Vendor, family and model number from /proc/cpuinfo (x86): the model string alone ("AMD EPYC"
    in many VMs) does not tell a microarchitecture apart; these numbers do."""
    found: dict[str, str | int | None] = {"cpu_vendor": None, "cpu_family": None, "cpu_model_id": None}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return found
    keys = {"vendor_id": "cpu_vendor", "cpu family": "cpu_family", "model": "cpu_model_id"}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        field = keys.get(key.strip())
        if field is None or found[field] is not None:
            continue
        value = value.strip()
        found[field] = int(value) if field != "cpu_vendor" and value.isdigit() else value or None
    return found


def cpu_clock() -> tuple[float | None, str]:
    """The CPU's clock in MHz and where it was read: the kernel's cpufreq maximum where the kernel
    exposes it, else the "cpu MHz" that /proc/cpuinfo reports (the highest over all CPUs: on a
    virtual machine usually the host's nominal clock, on bare metal the current one, which may be
    below the maximum); None with the reason when neither is readable."""
    try:
        khz = int(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text().strip())
        if khz > 0:
            return khz / 1000, "cpufreq cpuinfo_max_freq"
    except (OSError, ValueError):
        pass
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None, "no cpufreq maximum and no /proc/cpuinfo"
    mhz = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "cpu MHz":
            try:
                mhz.append(float(value))
            except ValueError:
                continue
    if mhz and max(mhz) > 0:
        return max(mhz), "/proc/cpuinfo cpu MHz"
    return None, "no cpufreq maximum and no cpu MHz in /proc/cpuinfo"


def physical_cores(cpus: set[int] | None = None) -> int | None:
    """Physical cores among ``cpus`` (all online CPUs when None): logical CPUs that share a core
    (SMT siblings) count once. Read from the kernel's topology (any architecture); None when the
    kernel does not say."""
    root = Path("/sys/devices/system/cpu")
    cores = set()
    for folder in root.glob("cpu[0-9]*"):
        cpu = int(folder.name[3:])
        if cpus is not None and cpu not in cpus:
            continue
        for name in ("core_cpus_list", "thread_siblings_list"):
            try:
                cores.add((folder / "topology" / name).read_text().strip())
                break
            except OSError:
                continue
    return len(cores) or None


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit() -> str:
    """The commit the pipelines ran from, marked +dirty when tracked files were edited."""
    commit = _git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return "unknown"
    return commit + ("+dirty" if _git("status", "--porcelain", "--untracked-files=no") else "")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def last_level_cache(root: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> int | None:
    """The size of the highest-level cache of CPU 0 from sysfs (``index*/level`` and ``size``)."""
    best: tuple[int, int] | None = None
    for index in sorted(root.glob("index*")) if root.is_dir() else []:
        try:
            level = int((index / "level").read_text())
            text = (index / "size").read_text().strip().upper()
        except (OSError, ValueError):
            continue
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        digits = text[:-1] if text[-1:] in "KMG" else text
        if not digits.isdigit():
            continue
        if best is None or level > best[0]:
            best = (level, int(digits) * scale)
    return best[1] if best else None


def machine_card() -> dict:
    """Describe this machine without importing any heavy library."""
    model, flags = _cpuinfo()
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    card = {
        "cpu": model,
        "arch": platform.machine(),
        "isa": sorted({label for flag, label in ISA_FLAGS.items() if flag in flags}),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(usable) if usable else os.cpu_count(),
        # ONNX Runtime's default thread count is one per physical core, not per logical CPU.
        "physical_cores": physical_cores(),
        "usable_physical_cores": physical_cores(usable) if usable else None,
        "memory_gib": round(m / 2**30, 1) if (m := _memory_bytes()) else None,
        **_cpu_identity(),
        # The clock the theoretical peak is computed with (``theoretical_peaks``), and its source.
        # The largest cache the first CPU sees (the last level), in bytes; None when the kernel does
        # not say. Weights that fit in it need not stream from DRAM on every call.
        "last_level_cache_bytes": last_level_cache(),
        "clock_mhz": (clock := cpu_clock())[0],
        "clock_source": clock[1],
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": package_versions(),
        "commit": git_commit(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    card["machine_id"] = machine_id(card)
    return card


def machine_id(card: dict) -> str:
    """A short, stable name for the hardware, so results can be kept per machine."""
    key = f"{card['cpu']}|{card['arch']}|{card['logical_cores']}|{','.join(card['isa'])}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


# ---- the theoretical peak: cores x clock x FLOPs per cycle ----------------------------------------

PRECISIONS = ("fp32", "bf16", "int8")

# Where each per-cycle figure comes from. A figure marked assumed could not be pinned for every part
# of its class (SKUs differ) or to an instruction table, and is shown as assumed.
INTEL_MANUAL = "Intel 64 and IA-32 Architectures Optimization Reference Manual"
AMD_ZEN1 = "AMD Software Optimization Guide for AMD Family 17h Processors (pub. 55723)"
AMD_ZEN2 = "AMD Software Optimization Guide for AMD Family 17h Models 30h+ (pub. 56305)"
AMD_ZEN3 = "AMD Software Optimization Guide for AMD Family 19h Processors (pub. 56665)"
AMD_ZEN4 = "AMD Software Optimization Guide for the AMD Zen 4 Microarchitecture (pub. 57647)"
AMD_ZEN5 = "AMD Software Optimization Guide for the AMD Zen 5 Microarchitecture (pub. 58455)"


@dataclass(frozen=True)
class CoreRate:
    """What one core of a microarchitecture completes per cycle on one kernel's instruction:
    FLOPs for fp32 and bf16 (a multiply and an add each), integer operations for int8."""

    isa: str = field(metadata={"help": "the instruction path, e.g. 'AVX-512 FMA (vfmadd231ps zmm)'"})
    requires: str = field(metadata={"help": "the machine card's ISA label the path needs"})
    per_cycle: int
    why: str = field(metadata={"help": "the arithmetic behind per_cycle"})
    source: str
    assumed: bool = False


# --8<-- [start:core-rates]
# Per microarchitecture class (``microarchitecture``) and precision: the paths in order of
# preference; the first whose ISA the card lists is the kernel's. FLOPs per cycle per core =
# instructions per cycle x lanes x 2 (multiply and add).
CORE_RATES: dict[str, dict[str, tuple[CoreRate, ...]]] = {
    "intel-amx": {  # Sapphire Rapids and later: two 512-bit FMA units on every SKU, and AMX
        "fp32": (CoreRate("AVX-512 FMA", "AVX-512F", 64, "2 FMA/cycle x 16 lanes x 2", INTEL_MANUAL),),
        # TDPBF16PS: a 16x32 by 32x16 tile product (8192 multiply-adds) every 16 cycles.
        "bf16": (
            CoreRate("AMX-BF16 (TDPBF16PS)", "AMX-BF16", 1024, "16x16x32 x 2 / 16 cycles", INTEL_MANUAL),
        ),
        # TDPBUSD: a 16x64 by 64x16 tile product (16384 multiply-adds) every 16 cycles.
        "int8": (CoreRate("AMX-INT8 (TDPBUSD)", "AMX-INT8", 2048, "16x16x64 x 2 / 16 cycles", INTEL_MANUAL),),
    },
    "intel-avx512": {  # Skylake-SP to Ice Lake-SP: two 512-bit FMA units on Gold 6xxx and Platinum
        # parts, one on some Bronze/Silver and client parts: two assumed.
        "fp32": (
            CoreRate("AVX-512 FMA", "AVX-512F", 64, "2 FMA/cycle x 16 lanes x 2", INTEL_MANUAL, assumed=True),
        ),
        "bf16": (  # Cooper Lake's VDPBF16PS: 32 bf16 pairs per instruction, issued as an FMA is
            CoreRate(
                "AVX-512 BF16 (VDPBF16PS)", "AVX-512 BF16", 128, "2/cycle x 32 pairs x 2", INTEL_MANUAL, True
            ),
        ),
        "int8": (  # VPDPBUSD: 64 u8 x s8 products summed into 16 int32 lanes
            CoreRate(
                "AVX-512 VNNI (VPDPBUSD zmm)",
                "AVX-512 VNNI",
                256,
                "2/cycle x 64 pairs x 2",
                INTEL_MANUAL,
                True,
            ),
        ),
    },
    "intel-avx2": {  # Haswell to the P-cores of hybrid parts: two 256-bit FMA units (ports 0 and 1)
        "fp32": (CoreRate("AVX2 FMA", "FMA", 32, "2 FMA/cycle x 8 lanes x 2", INTEL_MANUAL),),
        "int8": (
            CoreRate(
                "AVX-VNNI (VPDPBUSD ymm)", "AVX-VNNI", 128, "2/cycle x 32 pairs x 2", INTEL_MANUAL, True
            ),
        ),
    },
    "zen1": {  # two 128-bit FMA pipes: a 256-bit FMA takes both
        "fp32": (CoreRate("AVX2 FMA", "FMA", 16, "2 FMA/cycle x 4 lanes x 2", AMD_ZEN1),),
    },
    "zen2": {"fp32": (CoreRate("AVX2 FMA", "FMA", 32, "2 FMA/cycle x 8 lanes x 2", AMD_ZEN2),)},
    "zen3": {"fp32": (CoreRate("AVX2 FMA", "FMA", 32, "2 FMA/cycle x 8 lanes x 2", AMD_ZEN3),)},
    # Zen 4 runs a 512-bit operation as two 256-bit halves on its two 256-bit FMA pipes: one
    # 512-bit FMA per cycle, the same FLOPs as two 256-bit ones. Its BF16 and VNNI dot products
    # are assumed to issue at the FMA's rate (one 512-bit instruction per cycle).
    "zen4": {
        "fp32": (CoreRate("AVX-512 FMA", "AVX-512F", 32, "1 zmm FMA/cycle x 16 lanes x 2", AMD_ZEN4),),
        "bf16": (
            CoreRate(
                "AVX-512 BF16 (VDPBF16PS)", "AVX-512 BF16", 64, "1/cycle x 32 pairs x 2", AMD_ZEN4, True
            ),
        ),
        "int8": (
            CoreRate(
                "AVX-512 VNNI (VPDPBUSD zmm)", "AVX-512 VNNI", 128, "1/cycle x 64 pairs x 2", AMD_ZEN4, True
            ),
        ),
    },
    # Zen 5 desktop and server parts have a full 512-bit datapath (two 512-bit FMA pipes); mobile
    # parts keep 256-bit halves: the doubled figures are assumed.
    "zen5": {
        "fp32": (CoreRate("AVX-512 FMA", "AVX-512F", 64, "2 FMA/cycle x 16 lanes x 2", AMD_ZEN5, True),),
        "bf16": (
            CoreRate(
                "AVX-512 BF16 (VDPBF16PS)", "AVX-512 BF16", 128, "2/cycle x 32 pairs x 2", AMD_ZEN5, True
            ),
        ),
        "int8": (
            CoreRate(
                "AVX-512 VNNI (VPDPBUSD zmm)", "AVX-512 VNNI", 256, "2/cycle x 64 pairs x 2", AMD_ZEN5, True
            ),
        ),
    },
}


# --8<-- [end:core-rates]


def microarchitecture(card: dict) -> str | None:
    """The class of ``CORE_RATES`` a machine card belongs to: by vendor and family (x86 family
    numbers, AMD's Zen generations) and the ISA flags; None when no row fits (another vendor or
    architecture, or a card without these fields)."""
    vendor, family, model = card.get("cpu_vendor"), card.get("cpu_family"), card.get("cpu_model_id")
    isa = set(card.get("isa") or ())
    if vendor == "AuthenticAMD" and isinstance(family, int):
        if family == 0x17 and isinstance(model, int):
            return "zen2" if model >= 0x30 else "zen1"
        if family == 0x19:  # Zen 3 and Zen 4 share the family; only Zen 4 has AVX-512
            return "zen4" if "AVX-512F" in isa else "zen3"
        if family == 0x1A:
            return "zen5"
    if vendor == "GenuineIntel":
        if "AMX-BF16" in isa or "AMX-INT8" in isa:
            return "intel-amx"
        if "AVX-512F" in isa:
            return "intel-avx512"
        if "AVX2" in isa and "FMA" in isa:
            return "intel-avx2"
    return None


@dataclass(frozen=True)
class TheoreticalPeak:
    """cores x clock x FLOPs per cycle for one precision, or why there is none (``reason``)."""

    precision: str
    gflop_s: float | None
    cores: int | None
    clock_mhz: float | None
    clock_source: str | None
    microarchitecture: str | None
    rate: CoreRate | None
    fallback: bool = field(
        default=False, metadata={"help": "no instruction of this precision: the FP32 path bounds it"}
    )
    reason: str | None = None


def _number(value: object) -> float | None:
    """A positive finite number from a card (cards from other machines are untrusted), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 < value < float("inf") else None


def theoretical_peak(card: dict, precision: str, cores: int | None = None) -> TheoreticalPeak:
    """The theoretical GEMM peak of ``precision`` on the machine a card describes: ``cores``
    (default: its usable physical cores) x its clock x the per-cycle figure of the best path its
    ISA offers (``CORE_RATES``). BF16 without a BF16 instruction is bounded by the FP32 path."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    uarch = microarchitecture(card)
    clock = _number(card.get("clock_mhz"))
    source = card.get("clock_source") if isinstance(card.get("clock_source"), str) else None
    count = _number(cores if cores is not None else card.get("usable_physical_cores"))
    base = TheoreticalPeak(
        precision=precision,
        gflop_s=None,
        cores=int(count) if count else None,
        clock_mhz=clock,
        clock_source=source,
        microarchitecture=uarch,
        rate=None,
    )
    if uarch is None:
        return replace(base, reason="no per-cycle figure for this CPU")
    isa = set(card.get("isa") or ())
    rows = CORE_RATES[uarch]
    rate = next((r for r in rows.get(precision, ()) if r.requires in isa), None)
    fallback = False
    if rate is None and precision == "bf16":
        rate, fallback = next((r for r in rows["fp32"] if r.requires in isa), None), True
    if rate is None:
        return replace(base, reason=f"no {precision} instruction in this CPU's ISA with a per-cycle figure")
    base = replace(base, rate=rate, fallback=fallback)
    if clock is None:
        return replace(base, reason=f"clock unknown: {source or 'not recorded on the machine card'}")
    if not count:
        return replace(base, reason="core count unknown")
    return replace(base, gflop_s=int(count) * clock * 1e6 * rate.per_cycle / 1e9)
