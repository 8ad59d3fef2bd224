"""Workloads: a model, its data and its quality metric.

Modules here import torch only inside functions, so the runner and the site
can read quality metrics and names without loading a framework.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = {
    "minilm": "benchmarks.workloads.minilm",
    "digits-cnn": "benchmarks.workloads.digits_cnn",
    "resnet50": "benchmarks.workloads.resnet50",
}


def cache_dir() -> Path:
    """Trained weights and exported models; ``make clean`` removes it."""
    path = Path(os.environ.get("BENCH_CACHE_DIR", REPO_ROOT / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def get(name: str) -> ModuleType:
    if name not in WORKLOADS:
        raise KeyError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    return importlib.import_module(WORKLOADS[name])
