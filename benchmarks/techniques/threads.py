"""Threads (C2, and the core-count half of C4): the same eager model with 1, 2, ... threads,
up to the usable cores.

Top-level imports stay light: torch loads inside the builder.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType

from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.points import arithmetic as _arithmetic  # the names the principles page quotes
from benchmarks.points import grid
from benchmarks.points import usable_cores as _usable_cores

THREAD_COUNTS = tuple(sorted({1, 2, *(n for n in (4, 8, 16, 32, 64) if n <= _usable_cores())}))


def needs_two_cores() -> str | None:
    cores = _usable_cores()
    return None if cores >= 2 else f"only {cores} usable core: a thread-count comparison needs at least 2"


# --8<-- [start:threads]
def build_threads(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """The workload's eager FP32 model with exactly ``options['threads']`` intra-op threads."""
    import torch

    from benchmarks.engines.pytorch import torch_variant

    n = int(options["threads"])
    if n > _usable_cores():
        raise RuntimeError(f"{n} threads requested, but only {_usable_cores()} cores are usable")
    torch.set_num_threads(n)  # also sets OpenMP's and MKL's thread counts
    start = time.perf_counter()
    model = workload.torch_model()
    load_s = time.perf_counter() - start
    grids = THREAD_GRIDS[workload.NAME]
    return torch_variant(
        model,
        {"load_s": load_s},
        method="threads",
        threads_requested=n,
        **_arithmetic(model, workload, grids),
    )


# --8<-- [end:threads]


def _thread_variants() -> tuple[VariantSpec, ...]:
    return tuple(
        VariantSpec(
            f"threads-{n}",
            f"PyTorch eager FP32, {n} thread{'s' if n > 1 else ''}",
            f"PyTorch eager FP32,{n} 个线程",
            "benchmarks.techniques.threads:build_threads",
            {"threads": n},
        )
        for n in THREAD_COUNTS
    )


THREAD_GRIDS = {
    "minilm": {
        "toy": grid((1, 4), (16,)),
        "default": grid((1, 8), (128,)),
        "full": grid((1, 8, 32), (32, 128, 256)),
    },
    "digits-cnn": {
        "toy": grid((1, 64)),
        "default": grid((1, 32, 256)),
        "full": grid((1, 8, 32, 128, 512, 2048)),
    },
}

# The technique stays "principles": the page's name, stored in every result's configuration.
EXPERIMENTS = [
    Experiment(
        name=f"threads/{workload}",
        technique="principles",
        workload=workload,
        variants=_thread_variants(),
        grids=THREAD_GRIDS[workload],
        requires="benchmarks.techniques.threads:needs_two_cores",
    )
    for workload in ("minilm", "digits-cnn")
]
