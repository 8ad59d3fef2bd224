"""What determines a result, and whether a stored result is still up to date.

A result is keyed by the pipeline code it runs (its technique, engine and
workload modules plus the shared harness), its configuration, the versions of
the packages it uses, and the machine. Changing one of them makes only the
experiments that depend on it stale, and ``python -m benchmarks list`` says why.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from benchmarks.experiments import Experiment, get_profile
from benchmarks.machine import package_versions
from benchmarks.results import ExperimentResult
from benchmarks.workloads import WORKLOADS

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
# Code every experiment runs through.
SHARED_MODULES = ("benchmarks.harness", "benchmarks.runner", "benchmarks.experiments", "benchmarks.workloads")
ALWAYS_PACKAGES = ("numpy", "torch")


def _module_file(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def source_files(exp: Experiment) -> list[Path]:
    workload = WORKLOADS.get(exp.workload, "")
    modules = [*SHARED_MODULES, f"benchmarks.techniques.{exp.technique}", workload]
    modules += [v.builder.partition(":")[0] for v in exp.variants]
    files = {f for m in modules if m and (f := _module_file(m)) is not None}
    if workload and (workload_file := _module_file(workload)) is not None:
        files |= set((workload_file.parent / "data").glob("*"))  # data a workload reads lives beside it
    return sorted(files)


def packages_used(exp: Experiment) -> tuple[str, ...]:
    names = set(ALWAYS_PACKAGES)
    for variant in exp.variants:
        names |= set(variant.packages)
    try:
        from benchmarks import workloads

        names |= set(getattr(workloads.get(exp.workload), "PACKAGES", ()))
    except KeyError:
        pass
    return tuple(sorted(names))


def _display(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def cache_inputs(exp: Experiment, profile: str, card: dict[str, Any]) -> dict[str, Any]:
    return {
        "profile": profile,
        "config": _digest(json.dumps(exp.config(profile), sort_keys=True, default=str).encode()),
        "sources": {_display(f): _digest(f.read_bytes()) for f in source_files(exp)},
        "packages": package_versions(packages_used(exp)),
        "machine": card["machine_id"],
    }


# Baselines whose evaluation outputs are a function of code, packages, machine and
# thread count alone (no training, no randomness): the plain FP32 eager model.
REUSABLE_REFERENCES = ("benchmarks.engines:build_pytorch_eager",)


def reference_key(exp: Experiment, profile: str, card: dict[str, Any], threads: int) -> str | None:
    """What the baseline's outputs on the evaluation set depend on, or None when they
    cannot be shared between experiments."""
    baseline = exp.baseline
    if baseline.builder not in REUSABLE_REFERENCES or baseline.options:
        return None
    workload = WORKLOADS[exp.workload]
    files = {_module_file(m) for m in (baseline.builder.partition(":")[0], workload, *SHARED_MODULES)}
    files |= set((_module_file(workload).parent / "data").glob("*"))
    inputs = {
        "workload": exp.workload,
        "builder": baseline.builder,
        "sources": {_display(f): _digest(f.read_bytes()) for f in sorted(files - {None})},
        "packages": package_versions(tuple(sorted({*ALWAYS_PACKAGES, *baseline.packages}))),
        "machine": card["machine_id"],
        "threads": threads,
        "eval_limit": get_profile(profile).eval_limit,
    }
    return key_of(inputs)[:16]


def key_of(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def stale_reasons(stored: ExperimentResult, current: dict[str, Any]) -> list[str]:
    """Why a stored result no longer answers for the current code and machine; empty when it does."""
    before = stored.cache_inputs or {}
    if not before:
        return ["stored without its cache inputs"]
    reasons = []
    if before.get("profile") != current["profile"]:
        reasons.append(f"profile {before.get('profile')} -> {current['profile']}")
    if before.get("config") != current["config"]:
        reasons.append("configuration changed")
    old_src, new_src = before.get("sources", {}), current["sources"]
    for path in sorted(set(old_src) | set(new_src)):
        if path not in new_src:
            reasons.append(f"{path} no longer used")
        elif path not in old_src:
            reasons.append(f"{path} now used")
        elif old_src[path] != new_src[path]:
            reasons.append(f"{path} changed")
    old_pkg, new_pkg = before.get("packages", {}), current["packages"]
    for name in sorted(set(old_pkg) | set(new_pkg)):
        if old_pkg.get(name) != new_pkg.get(name):
            reasons.append(f"{name} {old_pkg.get(name, 'absent')} -> {new_pkg.get(name, 'absent')}")
    if before.get("machine") != current["machine"]:
        reasons.append("measured on another machine")
    return reasons
