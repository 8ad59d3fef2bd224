"""Workloads: a model, its data and its quality metric.

Modules here import torch only inside functions, so the runner and the site
can read quality metrics and names without loading a framework.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = {
    "minilm": "benchmarks.workloads.minilm",
    "digits-cnn": "benchmarks.workloads.digits_cnn",
    "resnet50": "benchmarks.workloads.resnet50",
}


class Workload(Protocol):
    """What a workload module provides: the runner, the engines and the pages read these names
    only. The type check (``make lint``) holds every module in ``WORKLOADS`` to it."""

    @property
    def NAME(self) -> str: ...
    @property
    def TITLE(self) -> str: ...
    @property
    def INPUT_NAMES(self) -> tuple[str, ...]: ...
    @property
    def PARITY_ATOL(self) -> float: ...
    @property
    def QUALITY_KIND(self) -> str: ...  # "accuracy" (a task score) or "fidelity" (agreement with FP32)
    @property
    def REFERENCE_POINT(self) -> dict[str, int]: ...  # read by verdicts and recipes
    @property
    def QUALITY_BAR(self) -> str: ...
    @property
    def QUALITY_BAR_ZH(self) -> str: ...
    @property
    def PACKAGES(self) -> tuple[str, ...]: ...  # distributions whose versions key its results

    def prepare(self) -> dict[str, Any]: ...
    def torch_model(self) -> Any: ...
    def timing_inputs(self, point: dict[str, int]) -> dict[str, np.ndarray]: ...
    def example_inputs(self) -> dict[str, np.ndarray]: ...
    def parity_inputs(self) -> list[dict[str, np.ndarray]]: ...
    def eval_batches(self, limit: int | None = None) -> list[dict[str, np.ndarray]]: ...
    def quality(self, outputs: np.ndarray, reference: np.ndarray | None) -> dict[str, float]: ...
    def meets_bar(self, metrics: dict[str, float], baseline: dict[str, float]) -> bool: ...


if TYPE_CHECKING:  # checked by mypy, never imported at run time
    from benchmarks.workloads import digits_cnn, minilm, resnet50

    _CONFORM: tuple[Workload, ...] = (digits_cnn, minilm, resnet50)


def cache_dir() -> Path:
    """Trained weights and exported models; ``make clean`` removes it."""
    path = Path(os.environ.get("BENCH_CACHE_DIR", REPO_ROOT / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def get(name: str) -> ModuleType:
    if name not in WORKLOADS:
        raise KeyError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    return importlib.import_module(WORKLOADS[name])
