"""Inference engines as variants: each builds a model in its own worker process.

A builder returns a ``Variant``: ``bind(inputs)`` gives the zero-argument call
that the harness times, ``predict(inputs)`` gives outputs for quality checks,
and ``info`` and ``one_time_costs`` record what really ran and what it cost
before the first call.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np


class ParityError(RuntimeError):
    """An exported model's outputs differ from PyTorch's beyond the stated tolerance."""


@dataclass
class Variant:
    bind: Callable[[dict[str, np.ndarray]], Callable[[], Any]]
    predict: Callable[[dict[str, np.ndarray]], np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)
    one_time_costs: dict[str, float] = field(default_factory=dict)


def build_pytorch_eager(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """PyTorch eager mode, FP32, under ``inference_mode``: the baseline."""
    import torch

    torch.set_num_threads(threads)
    start = time.perf_counter()
    model = workload.torch_model()
    load_s = time.perf_counter() - start
    return torch_variant(model, {"load_s": load_s})


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run one-time work (decomposition, training, fine-tuning) on one torch thread.

    On cores shared with other processes (the runner builds all variants at
    once), two threads made a LAPACK SVD about 50x slower and a training step
    about 20x slower here than one thread did: each parallel region waits for
    its slowest thread.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def torch_variant(model: Any, one_time_costs: dict[str, float], **info: Any) -> Variant:
    """Any eager PyTorch module as a variant: the baseline, or a pruned, factorised or distilled model.

    ``info`` adds what the variant did (method, sparsity, rank, ...) to the record;
    the model's size (see ``model_stats``) is recorded for every variant.
    """
    import torch

    from benchmarks.model_stats import model_size

    model.eval()

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}

        def call() -> Any:
            with torch.inference_mode():
                return model(**tensors)

        return call

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return bind(inputs)().float().numpy()

    record = {
        "engine": "pytorch",
        "mode": "eager",
        "precision": "fp32",
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        **model_size(model),
        **info,
    }
    return Variant(bind, predict, record, one_time_costs)


# --8<-- [start:export]
def export_onnx(model: Any, workload: ModuleType, path: Path, opset: int = 18) -> dict[str, Any]:
    """Export with the torch.export-based exporter; batch, sequence and (where the workload
    allows it) image height and width stay dynamic."""
    import logging

    import torch

    # The exporter logs a warning per missing optional torchvision operator.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    example = {k: torch.from_numpy(v) for k, v in workload.example_inputs().items()}
    batch = torch.export.Dim("batch", min=1, max=4096)
    dims: dict[str, dict[int, Any]] = {}
    for name, value in example.items():
        dims[name] = {0: batch}
        if value.dim() == 2:  # token inputs: (batch, sequence)
            dims[name][1] = torch.export.Dim("sequence", min=2, max=512)
        if value.dim() == 4 and getattr(workload, "DYNAMIC_IMAGE_SIZE", False):
            dims[name][2] = torch.export.Dim("height", min=32, max=1024)
            dims[name][3] = torch.export.Dim("width", min=32, max=1024)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model,
            args=(),
            kwargs=example,
            dynamic_shapes=dims,
            input_names=list(example),
            output_names=["output"],
            opset_version=opset,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
        program.save(str(path), external_data=False)
    return {"exporter": "torch.onnx (dynamo)", "opset": opset, "file_mb": path.stat().st_size / 2**20}


# --8<-- [end:export]


OPT_LEVELS = {
    "disabled": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


def check_session_parity(model: Any, session: Any, workload: ModuleType, engine: str) -> float:
    """Same inputs through PyTorch and an ONNX Runtime session, at shapes other than the
    export example; raises ParityError beyond the workload's tolerance."""
    import torch

    worst = 0.0
    for inputs in workload.parity_inputs():
        with torch.inference_mode():
            expected = model(**{k: torch.from_numpy(v) for k, v in inputs.items()}).numpy()
        got = session.run(None, inputs)[0]
        worst = max(worst, float(np.max(np.abs(got - expected))))
    if not worst <= workload.PARITY_ATOL:
        raise ParityError(
            f"{engine} output differs from PyTorch by {worst:.3g} (tolerance {workload.PARITY_ATOL:g})"
        )
    return worst


def build_onnxruntime(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """Export from PyTorch, check parity, and run with ONNX Runtime's CPU execution provider."""
    import onnxruntime as ort
    import torch

    torch.set_num_threads(threads)
    model = workload.torch_model()
    path = workdir / f"{workload.NAME}.onnx"
    start = time.perf_counter()
    export_info = export_onnx(model, workload, path)
    export_s = time.perf_counter() - start

    # --8<-- [start:session]
    level = options.get("opt_level", "all")
    session_options = ort.SessionOptions()
    session_options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, OPT_LEVELS[level])
    session_options.intra_op_num_threads = threads
    session_options.inter_op_num_threads = 1
    session_options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    start = time.perf_counter()
    session = ort.InferenceSession(str(path), session_options, providers=["CPUExecutionProvider"])
    session_s = time.perf_counter() - start
    # --8<-- [end:session]

    worst = check_session_parity(model, session, workload, "ONNX Runtime")
    del model

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        return lambda: session.run(None, inputs)

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return session.run(None, inputs)[0]

    info = {
        "engine": "onnxruntime",
        "precision": "fp32",
        "providers": session.get_providers(),
        "graph_optimization_level": level,
        "intra_op_threads": threads,
        "inter_op_threads": 1,
        "parity_max_abs_diff": worst,
        "parity_tolerance": workload.PARITY_ATOL,
        **export_info,
    }
    return Variant(bind, predict, info, {"export_s": export_s, "session_create_s": session_s})
