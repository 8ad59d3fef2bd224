"""PyTorch eager: the baseline, any eager module as a variant, and what the CPU offers PyTorch."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.engines import Variant


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


def torch_inputs(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Arrays as tensors, each a fresh C-contiguous copy."""
    import torch

    # A fresh copy has the same strides for every source of inputs; strides of size-1 axes vary
    # with how an array was sliced, and torch.compile guards on them (a mismatch recompiles).
    return {k: torch.from_numpy(np.array(v, order="C", copy=True)) for k, v in inputs.items()}


def eager_outputs(model: Any, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The eager model's outputs: what every other engine is checked against."""
    import torch

    with torch.inference_mode():
        return model(**torch_inputs(inputs)).float().numpy()


def strict_fp32(torch: Any) -> None:
    """FP32 means FP32: PyTorch would otherwise use TF32 tensor cores for convolutions on Ampere+."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True  # the fastest cuDNN algorithm per shape, as a tuned baseline


def cpu_vnni() -> bool | None:
    """Whether the CPU has VNNI (int8 dot products); None when PyTorch cannot tell."""
    try:
        import torch

        return bool(torch.cpu._is_vnni_supported())
    except Exception:  # a private helper: absent in some builds
        return None


def cpu_bf16_support() -> dict[str, Any]:
    """What the CPU offers for bfloat16: PyTorch's dispatch level and the BF16/AMX instructions."""
    import torch

    support: dict[str, Any] = {"cpu_capability": torch.backends.cpu.get_cpu_capability()}
    for key, probe in (("avx512_bf16", "_is_avx512_bf16_supported"), ("amx_tile", "_is_amx_tile_supported")):
        try:
            support[key] = bool(getattr(torch.cpu, probe)())
        except Exception:  # private probes: absent on some builds and architectures
            support[key] = None
    support["mkldnn_bf16"] = bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: None)())
    return support
