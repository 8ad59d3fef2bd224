"""Per-call overhead: an (almost) empty call through each engine, so a page can say how much of a
small model's latency no kernel can remove.

Every engine runs the same one-operation model, ``y = x + 1`` on one digits image
(1 x 1 x 8 x 8 float32), set up as its tuned variants are: PyTorch eager under
``inference_mode``; ONNX Runtime with the site's session options and inputs and outputs bound
once (IO binding); OpenVINO compiled with the latency hint, its request bound once; LiteRT's
interpreter with its input set once. One addition of 64 numbers is a few nanoseconds of
arithmetic; the rest of the call is the engine's own path from Python to a kernel and back.
Quality columns are those of the eager digits CNN, reported only because every variant must
predict.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.engines.litert import PACKAGES as LITERT_PACKAGES
from benchmarks.engines.litert import REQUIRES as LITERT_REQUIRES
from benchmarks.experiments import Experiment, VariantSpec

INPUT = "images"  # the digits workload's input: its timing inputs at batch 1 are one image


def _variant(workload: ModuleType, bind: Callable[[dict[str, np.ndarray]], Callable[[], Any]], info: dict):
    """A variant whose timed call is the empty call; predictions come from the eager digits CNN."""
    from benchmarks.engines import Variant
    from benchmarks.engines.pytorch import torch_variant

    eager = torch_variant(workload.torch_model(), {})
    note = (
        "the timed call adds 1 to the input and nothing else; quality figures are those of the "
        "eager FP32 model, reported only because every variant must predict"
    )
    return Variant(bind, eager.predict, {**info, "timed": "one Add of a constant", "quality_note": note})


def _checked(
    call: Callable[[], Any], inputs: dict[str, np.ndarray], read: Callable[[Any], np.ndarray]
) -> None:
    """The empty call computes what it should (x + 1), so an engine cannot time a no-op."""
    got = np.asarray(read(call()), dtype=np.float32)
    if not np.allclose(got, inputs[INPUT] + 1):
        raise RuntimeError("the empty call's output is not its input plus one")


# --8<-- [start:overhead]
def build_pytorch(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import torch

    torch.set_num_threads(threads)

    class AddOne(torch.nn.Module):
        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return images + 1

    module = AddOne().eval()

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        x = torch.from_numpy(inputs[INPUT])

        def call() -> Any:
            with torch.inference_mode():
                return module(x)

        _checked(call, inputs, lambda y: y.numpy())
        return call

    info = {"engine": "pytorch", "mode": "eager, inference_mode", "torch_threads": torch.get_num_threads()}
    return _variant(workload, bind, info)


def build_onnxruntime(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from benchmarks.engines.onnxruntime import ort_session_options
    from benchmarks.techniques.onnxruntime import io_binding_call

    shape = list(workload.timing_inputs({"batch": 1})[INPUT].shape)
    graph = helper.make_graph(
        [helper.make_node("Add", [INPUT, "one"], ["output"])],
        "add_one",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
        initializer=[numpy_helper.from_array(np.ones((), np.float32), "one")],
    )
    # IR version 8 (opset 17's): onnx writes its newest, which ONNX Runtime may not read yet.
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options_, settings = ort_session_options(threads)
    start = time.perf_counter()
    session = ort.InferenceSession(proto.SerializeToString(), options_, providers=["CPUExecutionProvider"])
    session_s = time.perf_counter() - start

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        call, output = io_binding_call(session, {INPUT: inputs[INPUT]})
        _checked(call, inputs, lambda _: output.numpy())
        return call

    info = {"engine": "onnxruntime", "version": ort.__version__, "io_binding": True, **settings}
    variant = _variant(workload, bind, info)
    variant.one_time_costs["session_s"] = session_s
    return variant


def build_openvino(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import openvino as ov
    import openvino.opset13 as ops

    from benchmarks.engines.openvino import compile_config

    shape = list(workload.timing_inputs({"batch": 1})[INPUT].shape)
    x = ops.parameter(shape, ov.Type.f32, name=INPUT)
    model = ov.Model([ops.add(x, ops.constant(np.float32(1)))], [x], "add_one")
    config = compile_config(threads, "f32", latency=True)
    start = time.perf_counter()
    compiled = ov.Core().compile_model(model, "CPU", config)
    compile_s = time.perf_counter() - start

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        request = compiled.create_infer_request()
        request.set_tensor(INPUT, ov.Tensor(np.ascontiguousarray(inputs[INPUT])))
        _checked(request.infer, inputs, lambda y: y[0])
        return request.infer

    info = {
        "engine": "openvino",
        "version": ov.get_version(),
        "compile_config": config,
        "request": "bound once",
    }
    variant = _variant(workload, bind, info)
    variant.one_time_costs["compile_s"] = compile_s
    return variant


def build_litert(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import torch
    from ai_edge_litert.interpreter import Interpreter

    from benchmarks.engines.litert import tflite_file

    torch.set_num_threads(threads)

    class AddOne(torch.nn.Module):  # converted as the workloads are: litert_torch, cached
        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return images + 1

    inputs = workload.timing_inputs({"batch": 1})
    folder, meta, reused = tflite_file(_add_one_workload(), AddOne(), inputs)
    interpreter = Interpreter(model_path=str(folder / "model.tflite"), num_threads=threads)
    interpreter.allocate_tensors()
    slot = interpreter.get_input_details()[0]["index"]
    output = interpreter.get_output_details()[0]["index"]

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        interpreter.set_tensor(slot, np.ascontiguousarray(inputs[INPUT]))  # set once, as bound

        def call() -> Any:
            interpreter.invoke()
            return interpreter.get_tensor(output)

        _checked(call, inputs, lambda y: y)
        return call

    info = {
        "engine": "litert",
        "intra_op_threads": threads,
        "inputs": "set once, bound to the request",
        "ops": [op["op_name"] for op in interpreter._get_ops_details()],
        "converted_from_cache": reused,
    }
    variant = _variant(workload, bind, info)
    if not reused:
        variant.one_time_costs["convert_s"] = meta["convert_s"]
    return variant


# --8<-- [end:overhead]


def _add_one_workload() -> ModuleType:
    """What ``tflite_file`` needs to name and cache the one-operation model's conversion: its
    name, input and source (this file, so a changed model is converted again)."""
    module = ModuleType("overhead_add_one")
    module.NAME = "overhead-add-one"  # type: ignore[attr-defined]
    module.INPUT_NAMES = (INPUT,)  # type: ignore[attr-defined]
    module.__file__ = __file__
    return module


VARIANTS = (
    VariantSpec(
        "empty-pytorch",
        "PyTorch eager, inference_mode",
        "PyTorch eager,inference_mode",
        "benchmarks.techniques.overhead:build_pytorch",
    ),
    VariantSpec(
        "empty-onnxruntime",
        "ONNX Runtime, IO binding",
        "ONNX Runtime,IO binding",
        "benchmarks.techniques.overhead:build_onnxruntime",
        packages=("onnxruntime", "onnx"),
    ),
    VariantSpec(
        "empty-openvino",
        "OpenVINO, latency hint, request bound once",
        "OpenVINO,延迟提示,请求只绑定一次",
        "benchmarks.techniques.overhead:build_openvino",
        packages=("openvino",),
    ),
    VariantSpec(
        "empty-litert",
        "LiteRT, input set once",
        "LiteRT,输入只设置一次",
        "benchmarks.techniques.overhead:build_litert",
        packages=LITERT_PACKAGES,
        requires=LITERT_REQUIRES,
    ),
)

# One digits image: the input of the smallest model the site measures.
GRID: dict[str, tuple[dict[str, int], ...]] = {
    "toy": ({"batch": 1},),
    "default": ({"batch": 1},),
    "full": ({"batch": 1},),
}

EXPERIMENTS = [
    Experiment(
        name="overhead/empty-call",
        technique="engines",
        workload="digits-cnn",
        variants=VARIANTS,
        grids=GRID,
    )
]
