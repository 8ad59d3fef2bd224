"""What determines a result, and whether a stored result is still up to date.

A result is keyed by the pipeline code it runs, its configuration, the versions of
the packages it uses, and the machine. The code and packages are those declared
(its technique, engine and workload modules plus the shared harness; the packages
its variants name) and, once it has run, every project module and package its
workers really had loaded, as they reported it (``loaded_code``). Changing one of
them makes only the experiments that depend on it stale, and ``python -m
benchmarks list`` says why.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.experiments import Experiment, Profile, VariantSpec
from benchmarks.machine import package_versions
from benchmarks.results import ExperimentResult
from benchmarks.workloads import WORKLOADS

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
# Code every experiment runs through.
SHARED_MODULES = (
    "benchmarks.harness",
    "benchmarks.runner",
    "benchmarks.workers",
    "benchmarks.experiments",
    "benchmarks.workloads",
)
ALWAYS_PACKAGES = ("numpy", "torch")


def _module_file(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def source_files(exp: Experiment) -> list[Path]:
    workload = WORKLOADS.get(exp.workload, "")
    modules = [*SHARED_MODULES, exp.module or f"benchmarks.techniques.{exp.technique}", workload]
    modules += [v.builder.partition(":")[0] for v in exp.variants]
    files = {f for m in modules if m and (f := _module_file(m)) is not None}
    if workload and (workload_file := _module_file(workload)) is not None:
        files |= set((workload_file.parent / "data").glob("*"))  # data a workload reads lives beside it
    return sorted(files)


def _workload_packages(name: str) -> tuple[str, ...]:
    from benchmarks import workloads

    try:
        return tuple(getattr(workloads.get(name), "PACKAGES", ()))
    except KeyError:
        return ()


def packages_used(exp: Experiment) -> tuple[str, ...]:
    names = set(ALWAYS_PACKAGES) | set(_workload_packages(exp.workload))
    for variant in exp.variants:
        names |= set(variant.packages)
    return tuple(sorted(names))


def _display(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def loaded_code() -> dict[str, list[str]]:
    """The project modules (repository paths) and installed distributions this process has
    loaded: what a worker reports when it stops, so a result is keyed on what really ran."""
    sources, top_level = set(), set()
    venv = Path(sys.prefix).resolve()
    for name, module in list(sys.modules.items()):
        top_level.add(name.partition(".")[0])
        origin = getattr(module, "__file__", None)
        if not origin or not Path(origin).is_absolute():  # torch names some modules "_ops.py"
            continue
        path = Path(origin).resolve()
        if path.suffix == ".py" and path.is_relative_to(REPO_ROOT) and not path.is_relative_to(venv):
            sources.add(_display(path))
    owners = importlib.metadata.packages_distributions()
    packages = {dist for top in top_level for dist in owners.get(top, ())}
    return {"sources": sorted(sources), "packages": sorted(packages)}


def cache_inputs(
    exp: Experiment, profile: Profile, card: dict[str, Any], loaded: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The key's inputs: declared code and packages, plus those a run reported as ``loaded``
    (a stored result's own record, when checking it for staleness)."""
    files = set(source_files(exp))
    for path in (loaded or {}).get("sources", ()):
        file = REPO_ROOT / path
        if file.is_file():  # a module since removed shows as "no longer used"
            files.add(file)
    packages = set(packages_used(exp)) | set((loaded or {}).get("packages", ()))
    inputs = {
        "profile": profile.name,
        "config": _digest(json.dumps(exp.config(profile), sort_keys=True, default=str).encode()),
        "sources": {_display(f): _digest(f.read_bytes()) for f in sorted(files)},
        "packages": package_versions(tuple(sorted(packages))),
        "machine": card["machine_id"],
    }
    if loaded is not None:
        inputs["loaded"] = loaded
    return inputs


# Builders whose evaluation outputs depend on code, package versions, machine and thread
# count alone: no training and no randomness, and the files they load (ONNX exports,
# OpenVINO IRs, LiteRT models) are cached by content. The first experiment of a run to
# evaluate one with given options stores its outputs; the later ones reuse them.
EAGER_BUILDER = "benchmarks.engines.pytorch:build_pytorch_eager"
PURE_BUILDERS = (
    EAGER_BUILDER,
    "benchmarks.techniques.onnxruntime:build_ort_graph",
    "benchmarks.techniques.inference_engines:build_openvino",
    "benchmarks.techniques.inference_engines:build_litert",
)
# Builders that compute another's outputs (and record something more).
SAME_OUTPUTS_AS = {"benchmarks.techniques.recipes:build_eager_with_flops": EAGER_BUILDER}
# Options that place a variant on a page without changing what it computes.
LABEL_OPTIONS = ("role",)


def outputs_key(
    exp: Experiment, variant: VariantSpec, profile: Profile, card: dict[str, Any], threads: int
) -> str | None:
    """What a variant's outputs on the evaluation set depend on, or None when they cannot be
    shared between experiments (training, randomness, or a builder not known to be pure)."""
    builder = SAME_OUTPUTS_AS.get(variant.builder, variant.builder)
    if builder not in PURE_BUILDERS or variant.fresh_process:
        return None
    workload = WORKLOADS[exp.workload]
    modules = (builder.partition(":")[0], "benchmarks.engines", workload, *SHARED_MODULES)
    files = {f for m in modules if (f := _module_file(m)) is not None}
    files |= set((PACKAGE_DIR / "engines").glob("*.py"))  # each engine's settings, in its own module
    files |= set((PACKAGE_DIR / "workloads" / "data").glob("*"))  # data a workload reads lives beside it
    inputs = {
        "workload": exp.workload,
        "builder": builder,
        "options": {k: v for k, v in variant.options.items() if k not in LABEL_OPTIONS},
        "sources": {_display(f): _digest(f.read_bytes()) for f in sorted(files)},
        "packages": package_versions(
            tuple(sorted({*ALWAYS_PACKAGES, *variant.packages, *_workload_packages(exp.workload)}))
        ),
        "machine": card["machine_id"],
        "threads": threads,
        "eval_limit": profile.eval_limit,
    }
    return key_of(inputs)[:16]


def stored_inputs(
    exp: Experiment, profile: Profile, card: dict[str, Any], stored: ExperimentResult
) -> dict[str, Any]:
    """The current inputs of what a stored result says it loaded, to compare with its own."""
    return cache_inputs(exp, profile, card, (stored.cache_inputs or {}).get("loaded"))


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
