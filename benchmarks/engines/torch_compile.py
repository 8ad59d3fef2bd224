"""``torch.compile`` with Inductor in its default mode: one static graph per input shape."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.engines import Variant
from benchmarks.engines.common import StaticShapes
from benchmarks.engines.pytorch import torch_inputs

# One graph per timed shape, plus the evaluation shape: more than Dynamo's default limit of 8
# would silently fall back to eager.
RECOMPILE_LIMIT = 64


def build(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """``torch.compile`` with Inductor in its default mode; one static graph per input shape."""
    import torch
    import torch._dynamo
    from torch._dynamo.utils import counters

    from benchmarks.model_stats import model_size

    torch.set_num_threads(threads)
    torch._dynamo.config.recompile_limit = RECOMPILE_LIMIT
    model = workload.torch_model()

    # --8<-- [start:torch-compile]
    compiled = torch.compile(model, backend="inductor", mode=None, dynamic=False)

    def prepare(inputs: dict[str, np.ndarray]) -> tuple[Callable[..., Callable[[], Any]], float]:
        def make_call(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
            tensors = torch_inputs(inputs)

            def call() -> Any:
                with torch.inference_mode():
                    return compiled(**tensors)

            return call

        start = time.perf_counter()
        make_call(inputs)()  # the first call of a new shape traces and compiles it
        return make_call, time.perf_counter() - start

    # --8<-- [end:torch-compile]

    record: dict[str, Any] = {
        "engine": "pytorch",
        "mode": "torch.compile (inductor, default mode, dynamic=False)",
        "precision": "fp32",
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "shapes": "static: one compiled graph per input shape",
        **model_size(model),
    }
    costs: dict[str, float] = {}
    shapes = StaticShapes("torch.compile", workload, model, prepare, "compile_s", record, costs)
    shapes.build()
    # Inductor caches compiled graphs on disk across processes, as it does for any user.
    record["inductor_fxgraph_cache"] = {
        k.removeprefix("fxgraph_cache_"): v for k, v in counters["inductor"].items() if "fxgraph_cache" in k
    }
    return Variant(shapes.bind, shapes.predict, record, costs)
