"""The machine card: what ran the numbers, carried inside every result."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import os
import platform
import subprocess
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
