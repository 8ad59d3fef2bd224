"""TensorRT on an NVIDIA GPU (article table row T2): ResNet-50, FP32 and FP16 engines.

The pipeline exports the model to ONNX (``engines.export_onnx``), builds a
TensorRT engine from that file with TensorRT's own Python API, and runs it on
device buffers owned by PyTorch. The baseline is PyTorch eager FP32 on the
same GPU. Without an NVIDIA GPU and the ``tensorrt`` package the experiment is
recorded as skipped, with the reason, and never faked on the CPU.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any

from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.results import ExperimentResult
from benchmarks.verdicts import Finding, Verdict, quality, speedup

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

TRT_PACKAGES = ("tensorrt", "onnx", "onnxscript")
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


def _strict_fp32(torch: Any) -> None:
    """FP32 means FP32: PyTorch would otherwise use TF32 tensor cores for convolutions on Ampere+."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True  # the fastest cuDNN algorithm per shape, as a tuned baseline


def build_pytorch_cuda(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """PyTorch eager FP32 on the GPU; inputs are copied to the device once per point, outputs stay there."""
    import numpy as np
    import torch

    from benchmarks.engines import Variant
    from benchmarks.model_stats import model_size

    torch.set_num_threads(threads)
    _strict_fp32(torch)
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


def _export(model: Any, workload: ModuleType, path: Path, precision: str) -> dict[str, Any]:
    """Export at the timed image size, in the precision the engine is to run.

    ``export_onnx`` keeps only the batch axis dynamic, so the example's height and
    width become the engine's. TensorRT 11 takes precision from the graph itself
    (strong typing; its FP16 builder flag is gone), so the FP16 variant exports a
    half-precision model whose input and output stay FP32.
    """
    import torch

    from benchmarks import engines

    class HalfPrecision(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner.half()

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return self.inner(images.half()).float()

    if precision == "fp16":
        model = HalfPrecision(copy.deepcopy(model)).eval()
    at_size = SimpleNamespace(example_inputs=lambda: workload.timing_inputs({"batch": 2}))
    return engines.export_onnx(model.cpu(), at_size, path)  # type: ignore[arg-type]


def build_engine(onnx_path: Path, precision: str, opt_batch: int, max_batch: int) -> tuple[bytes, dict]:
    """An engine serialised by TensorRT's builder from the ONNX file."""
    import tensorrt as trt

    # --8<-- [start:trt-build]
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    # Strongly typed: every layer runs in the type the ONNX graph gives it (always so in TensorRT 11).
    strongly_typed = hasattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED")
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if strongly_typed else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse the ONNX file: {errors}")
    config = builder.create_builder_config()
    if precision == "fp16" and not strongly_typed:
        config.set_flag(trt.BuilderFlag.FP16)  # TensorRT before 10.12: precision by builder flag
    if hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)  # FP32 layers stay strict FP32, like the baseline
    image = network.get_input(0)
    _, channels, height, width = image.shape
    profile = builder.create_optimization_profile()
    profile.set_shape(
        image.name,
        (1, channels, height, width),
        (opt_batch, channels, height, width),
        (max_batch, channels, height, width),
    )
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError("TensorRT's builder returned no engine (see its log above)")
    # --8<-- [end:trt-build]
    return bytes(serialized), {
        "tensorrt": trt.__version__,
        "strongly_typed": strongly_typed,
        "tf32": not hasattr(trt.BuilderFlag, "TF32"),
        "engine_mb": len(serialized) / 2**20,
    }


def build_tensorrt(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """Export to ONNX, build a TensorRT engine, and run it on PyTorch-owned GPU buffers."""
    import numpy as np
    import tensorrt as trt
    import torch

    from benchmarks.engines import ParityError, Variant

    torch.set_num_threads(threads)
    _strict_fp32(torch)
    model = workload.torch_model().eval()
    path = workdir / f"{workload.NAME}.onnx"
    start = time.perf_counter()
    export_info = _export(model, workload, path, options["precision"])
    export_s = time.perf_counter() - start
    start = time.perf_counter()
    serialized, engine_info = build_engine(
        path, options["precision"], options["opt_batch"], options["max_batch"]
    )
    build_s = time.perf_counter() - start

    # --8<-- [start:trt-run]
    engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(serialized)
    context = engine.create_execution_context()
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    input_name = next(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT)
    output_name = next(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT)
    stream = torch.cuda.Stream()

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        images = torch.from_numpy(inputs[input_name]).cuda().contiguous()
        context.set_input_shape(input_name, tuple(images.shape))
        output = torch.empty(tuple(context.get_tensor_shape(output_name)), dtype=torch.float32, device="cuda")
        torch.cuda.synchronize()  # the copy ran on PyTorch's stream; the engine runs on its own

        def call() -> Any:
            context.set_input_shape(input_name, tuple(images.shape))
            context.set_tensor_address(input_name, images.data_ptr())
            context.set_tensor_address(output_name, output.data_ptr())
            context.execute_async_v3(stream.cuda_stream)
            stream.synchronize()
            return output

        return call

    # --8<-- [end:trt-run]

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


# ---- verdict -------------------------------------------------------------------------------------

MUCH_FASTER = 2.0
FASTER = 1.1


def _meets_bar(metrics: dict[str, Any]) -> bool:
    from benchmarks.workloads import resnet50

    return resnet50.meets_bar(metrics, {})


def judge_t2(results: dict[str, ExperimentResult]) -> Finding:
    """TensorRT against PyTorch FP32 on the same GPU, at the largest batch measured."""
    result = results["tensorrt/resnet50"]
    largest = max((e["params"] for e in result.points), key=lambda p: p["batch"])
    fp16 = speedup(result, TRT_FP16.name, **largest)
    fp32 = speedup(result, TRT_FP32.name, **largest)
    fp16_ok = _meets_bar(quality(result, TRT_FP16.name))
    device = result.variants[TRT_FP16.name]["info"].get("device", "?")
    if fp16 >= MUCH_FASTER and fp16_ok:
        outcome = "holds"
    elif max(fp32, fp16 if fp16_ok else 0.0) >= FASTER:
        outcome = "partly"
    else:
        outcome = "does-not-hold"
    cosine = quality(result, TRT_FP16.name).get("cosine_mean", float("nan"))
    bar = "meets" if fp16_ok else "misses"
    bar_zh = "达到" if fp16_ok else "未达到"
    return Finding(
        outcome,
        f"{device}, batch {largest['batch']}: TensorRT FP32 {fp32:.2f}×, FP16 {fp16:.2f}× over PyTorch "
        f"FP32 (FP16 mean logit cosine {cosine:.4f}, {bar} the fidelity bar; random weights)",
        f"{device},批大小 {largest['batch']}:TensorRT FP32 {fp32:.2f}×,FP16 {fp16:.2f}×(相对 PyTorch "
        f"FP32;FP16 平均 logit 余弦 {cosine:.4f},{bar_zh}保真度门槛;随机权重)",
    )


VERDICTS = [
    Verdict(
        claim="T2",
        experiments=("tensorrt/resnet50",),
        rule=(
            "Measured only where an NVIDIA GPU and TensorRT exist (elsewhere: not measurable here, with "
            "the reason). Holds if, at the largest batch measured (128 in the default profile, the "
            "published setting), TensorRT FP16 is at least 2× faster than PyTorch eager FP32 on the same "
            "GPU (median paired speedup) while its outputs meet ResNet-50's fidelity bar; partly holds if "
            "only a TensorRT engine at least 1.1× faster is found (FP32, or FP16 within the bar); does not "
            "hold otherwise."
        ),
        rule_zh=(
            "只在有 NVIDIA GPU 和 TensorRT 的机器上测量(否则为本机无法测量,并写明原因)。在测量的最大批大小"
            "(默认配置档为 128,即公开数据的设置)上,若 TensorRT FP16 比同一块 GPU 上的 PyTorch eager FP32 "
            "快至少 2 倍(成对轮次加速比的中位数),且输出达到 ResNet-50 的保真度门槛,则成立;若只有某个 "
            "TensorRT 引擎(FP32,或达到门槛的 FP16)快至少 1.1 倍,则部分成立;否则不成立。"
        ),
        judge=judge_t2,
    ),
]
