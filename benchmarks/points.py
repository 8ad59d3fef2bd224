"""The points experiments measure: their grids, the shape a point names, the work per item at
each shape, and the cores a worker may use.

Light at import: torch loads only inside ``arithmetic``.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def grid(batches: tuple[int, ...], seq_lens: tuple[int, ...] | None = None) -> tuple[dict[str, int], ...]:
    """Every batch size (with every sequence length, for a text workload)."""
    if seq_lens is None:
        return tuple({"batch": b} for b in batches)
    return tuple({"batch": b, "seq_len": s} for b in batches for s in seq_lens)


def shape_key(params: dict[str, int]) -> str:
    """A point without its batch size: what the work per item depends on ('' for the CNNs)."""
    return ",".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "batch")


def arithmetic(model: Any, workload: ModuleType, grids: dict[str, tuple[dict[str, int], ...]]) -> dict:
    """FLOPs and input/output bytes per item at every shape the grids use (for the roofline).

    Work per item does not depend on the batch size, so it is counted once at batch 1.
    """
    import torch

    from benchmarks.model_stats import count_flops

    flops, io_bytes = {}, {}
    shapes = {shape_key(p): {k: v for k, v in p.items() if k != "batch"} for g in grids.values() for p in g}
    for key, shape in sorted(shapes.items()):
        inputs = workload.timing_inputs({"batch": 1, **shape})
        flops[key] = count_flops(model, inputs)
        with torch.inference_mode():
            out = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
        io_bytes[key] = sum(v.nbytes for v in inputs.values()) + out.numel() * out.element_size()
    return {"flops_per_item": flops, "io_bytes_per_item": io_bytes}
