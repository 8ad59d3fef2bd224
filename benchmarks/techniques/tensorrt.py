"""TensorRT on an NVIDIA GPU (article table row T2): ResNet-50, FP32 and FP16 engines.

The pipeline exports the model to ONNX (``engines.onnxruntime.export_onnx``),
builds a TensorRT engine from that file with TensorRT's own Python API, and runs
it on device buffers owned by PyTorch (``engines.tensorrt``). The baseline is
PyTorch eager FP32 on the same GPU. Without an NVIDIA GPU and the ``tensorrt``
package the experiment is recorded as skipped, with the reason, and never faked
on the CPU. Rule T2 is in ``benchmarks.claims.tensorrt``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from benchmarks.engines.tensorrt import PACKAGES as TRT_PACKAGES
from benchmarks.experiments import Experiment, VariantSpec

if TYPE_CHECKING:
    from benchmarks.engines import Variant

GPU_DEVICE = Path("/dev/nvidia0")


# --8<-- [start:requirements]
def _gpu_problem() -> str | None:
    """Why no NVIDIA GPU is usable, or None; reads the device node and nvidia-smi, never CUDA."""
    smi = shutil.which("nvidia-smi")
    if smi is None and not GPU_DEVICE.exists():
        return (
            f"no NVIDIA GPU on this machine (nvidia-smi not found, {GPU_DEVICE} absent); TensorRT needs one"
        )
    if smi is not None and not GPU_DEVICE.exists():
        try:
            listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"nvidia-smi could not list GPUs ({type(exc).__name__}); TensorRT needs an NVIDIA GPU"
        if listed.returncode != 0 or "GPU" not in listed.stdout:
            return "no NVIDIA GPU on this machine (nvidia-smi -L lists none); TensorRT needs one"
    return None


def _torch_cuda_problem() -> str | None:
    """PyTorch must see the GPU too (it is the baseline and owns the buffers); asked in a subprocess,
    so the runner never imports torch."""
    probe = "import torch; print(torch.__version__, torch.cuda.is_available())"
    try:
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "could not ask PyTorch about CUDA: no answer within 120 s"
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 2:
        return f"could not ask PyTorch about CUDA: {done.stderr.strip()[-200:]}"
    if words[1] != "True":
        return f"PyTorch {words[0]} here cannot use the GPU (a CPU-only build, or no CUDA driver)"
    return None


def missing_requirements() -> str | None:
    """Why this machine cannot run TensorRT, or None when it can (called by the runner)."""
    problems = []
    if (gpu := _gpu_problem()) is not None:
        problems.append(gpu)
    if importlib.util.find_spec("tensorrt") is None:
        problems.append(
            "the tensorrt Python package is not installed (`pip install tensorrt` of the version that "
            "matches the machine's CUDA)"
        )
    if problems:
        return "; ".join(problems)
    return _torch_cuda_problem()


# --8<-- [end:requirements]

PYTORCH_CUDA = VariantSpec(
    "pytorch-cuda",
    "PyTorch eager FP32 on the GPU",
    "PyTorch eager FP32(GPU)",
    "benchmarks.techniques.tensorrt:build_pytorch_cuda",
)
# The engine's optimisation profile covers batches 1..256; it is tuned for 128,
# the batch of the published figure.
ENGINE_BATCHES = {"opt_batch": 128, "max_batch": 256}
TRT_FP32 = VariantSpec(
    "tensorrt-fp32",
    "TensorRT FP32 (TF32 off)",
    "TensorRT FP32(关闭 TF32)",
    "benchmarks.techniques.tensorrt:build_tensorrt",
    {"precision": "fp32", **ENGINE_BATCHES},
    TRT_PACKAGES,
)
TRT_FP16 = VariantSpec(
    "tensorrt-fp16",
    "TensorRT FP16",
    "TensorRT FP16",
    "benchmarks.techniques.tensorrt:build_tensorrt",
    {"precision": "fp16", **ENGINE_BATCHES},
    TRT_PACKAGES,
)

EXPERIMENTS = [
    Experiment(
        name="tensorrt/resnet50",
        technique="tensorrt",
        workload="resnet50",
        variants=(PYTORCH_CUDA, TRT_FP32, TRT_FP16),
        grids={
            "toy": ({"batch": 1}, {"batch": 8}),
            "default": ({"batch": 1}, {"batch": 32}, {"batch": 128}),
            "full": ({"batch": 1}, {"batch": 8}, {"batch": 32}, {"batch": 128}, {"batch": 256}),
        },
        requires="benchmarks.techniques.tensorrt:missing_requirements",
    ),
]


# ---- building variants (inside a worker process, on a GPU machine) -------------------------------


def build_pytorch_cuda(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """PyTorch eager FP32 on the GPU; inputs are copied to the device once per point, outputs stay there."""
    import numpy as np
    import torch

    from benchmarks.engines import Variant
    from benchmarks.engines.pytorch import strict_fp32
    from benchmarks.model_stats import model_size

    torch.set_num_threads(threads)
    strict_fp32(torch)
    start = time.perf_counter()
    model = workload.torch_model().cuda().eval()
    load_s = time.perf_counter() - start

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        device = {k: torch.from_numpy(v).cuda() for k, v in inputs.items()}

        def call() -> Any:
            with torch.inference_mode():
                out = model(**device)
            torch.cuda.synchronize()
            return out

        return call

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return bind(inputs)().float().cpu().numpy()

    record = {
        "engine": "pytorch",
        "mode": "eager",
        "device": torch.cuda.get_device_name(0),
        "precision": "fp32",
        "tf32": False,
        "cudnn_benchmark": True,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.version.cuda,
        "timing": "inputs already on the GPU; each call waits for the GPU to finish",
        **model_size(model),
    }
    return Variant(bind, predict, record, {"load_s": load_s})


def build_tensorrt(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """Export to ONNX, build a TensorRT engine, and run it on PyTorch-owned GPU buffers."""
    import numpy as np
    import torch

    from benchmarks.engines import ParityError, Variant
    from benchmarks.engines.pytorch import strict_fp32
    from benchmarks.engines.tensorrt import build_engine, engine_binder, export_for_engine

    torch.set_num_threads(threads)
    strict_fp32(torch)
    model = workload.torch_model().eval()
    path = workdir / f"{workload.NAME}.onnx"
    start = time.perf_counter()
    export_info = export_for_engine(model, workload, path, options["precision"])
    export_s = time.perf_counter() - start
    start = time.perf_counter()
    serialized, engine_info = build_engine(
        path, options["precision"], options["opt_batch"], options["max_batch"]
    )
    build_s = time.perf_counter() - start

    bind = engine_binder(serialized)

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return bind(inputs)().cpu().numpy().copy()

    # Parity with PyTorch FP32 on the GPU: the FP32 engine must match; FP16's difference is recorded
    # and its cost shows in the fidelity metrics.
    reference = model.cuda()
    worst = 0.0
    for inputs in [workload.timing_inputs({"batch": 1}), workload.timing_inputs({"batch": 3})]:
        with torch.inference_mode():
            expected = reference(**{k: torch.from_numpy(v).cuda() for k, v in inputs.items()}).cpu().numpy()
        worst = max(worst, float(np.max(np.abs(predict(inputs) - expected))))
    if options["precision"] == "fp32" and not worst <= workload.PARITY_ATOL:
        raise ParityError(
            f"TensorRT FP32 output differs from PyTorch by {worst:.3g} (tolerance {workload.PARITY_ATOL:g})"
        )
    del model, reference
    torch.cuda.empty_cache()

    record = {
        "engine": "tensorrt",
        "device": torch.cuda.get_device_name(0),
        "precision": options["precision"],
        "batch_profile": f"1..{options['max_batch']}, tuned for {options['opt_batch']}",
        "timing": "inputs already on the GPU; each call waits for the GPU to finish",
        "parity_max_abs_diff": worst,
        "parity_tolerance": workload.PARITY_ATOL,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", "all"),
        **engine_info,
        **export_info,
    }
    return Variant(bind, predict, record, {"export_s": export_s, "engine_build_s": build_s})
