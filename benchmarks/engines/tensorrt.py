"""TensorRT on an NVIDIA GPU: the ONNX export in the engine's precision, the engine's build
settings, and its run on device buffers owned by PyTorch."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

PACKAGES = ("tensorrt", "onnx", "onnxscript")


def export_for_engine(model: Any, workload: ModuleType, path: Path, precision: str) -> dict[str, Any]:
    """Export at the timed image size, in the precision the engine is to run.

    ``export_onnx`` keeps only the batch axis dynamic, so the example's height and
    width become the engine's. TensorRT 11 takes precision from the graph itself
    (strong typing; its FP16 builder flag is gone), so the FP16 variant exports a
    half-precision model whose input and output stay FP32.
    """
    import torch

    from benchmarks.engines.onnxruntime import export_onnx

    class HalfPrecision(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner.half()

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return self.inner(images.half()).float()

    if precision == "fp16":
        model = HalfPrecision(copy.deepcopy(model)).eval()
    at_size = SimpleNamespace(example_inputs=lambda: workload.timing_inputs({"batch": 2}))
    return export_onnx(model.cpu(), at_size, path)  # type: ignore[arg-type]


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


def engine_binder(serialized: bytes) -> Callable[[dict[str, np.ndarray]], Callable[[], Any]]:
    """The engine deserialised: ``bind(inputs)`` copies the images to the GPU once and gives the
    timed call, which runs the engine on its own stream and waits for it."""
    import tensorrt as trt
    import torch

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
    return bind
