"""LiteRT (formerly TensorFlow Lite): ``litert_torch`` converts the PyTorch model to one
``.tflite`` file per input shape (cached), run by LiteRT's interpreter with XNNPACK."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.engines import Variant
from benchmarks.engines.common import StaticShapes, converted_model, shape_label
from benchmarks.engines.pytorch import torch_inputs

PACKAGES = ("litert-torch", "ai-edge-litert")
# The options of the tuned form (a recipe candidate): the interpreter's own thread count, and
# inputs copied into the interpreter once instead of before every call.
BOUND = {"bound": True}
REQUIRES = "benchmarks.engines.litert:unavailable"
BOUND_ONE_THREAD = {"bound": True, "threads": 1}


def unavailable() -> str | None:
    """Why LiteRT cannot run here: its converter or interpreter is not installed (on Linux aarch64,
    litert-converter, which litert-torch needs, publishes no wheel). None when both are there."""
    import importlib.util
    import platform

    missing = [name for name in ("litert_torch", "ai_edge_litert") if importlib.util.find_spec(name) is None]
    if missing:
        return (
            f"LiteRT is not installed on this machine ({platform.machine()}): no module "
            f"{', '.join(missing)} (requirements.txt installs it only where its wheels exist)"
        )
    return None


def tflite_file(workload: ModuleType, model: Any, inputs: dict[str, np.ndarray]) -> tuple[Path, dict, bool]:
    """The model converted at the shape of ``inputs`` (cached): (folder, meta, reused)."""

    def make(folder: Path) -> dict[str, Any]:
        import litert_torch  # slow to import: only when a file must be converted

        # --8<-- [start:litert-convert]
        sample_args = tuple(torch_inputs(inputs)[name] for name in workload.INPUT_NAMES)
        start = time.perf_counter()
        edge_model = litert_torch.convert(model.eval(), sample_args)  # static shapes
        convert_s = time.perf_counter() - start
        edge_model.export(str(folder / "model.tflite"))
        # --8<-- [end:litert-convert]
        return {"convert_s": convert_s}

    shape = {k: list(v.shape) for k, v in inputs.items()}
    return converted_model("litert", workload, {"shape": shape}, make, code=(tflite_file,), packages=PACKAGES)


def build(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """Convert with litert_torch (one .tflite per input shape) and run LiteRT's interpreter.

    Options of its tuned form (a recipe candidate): ``threads``, the interpreter's own thread count
    (the run's when absent), and ``bound``: the inputs are copied into the interpreter once, not
    before every call (as ONNX Runtime's IO binding does; again whenever another input was set)."""
    import torch
    from ai_edge_litert.interpreter import Interpreter

    torch.set_num_threads(threads)
    threads = int(options.get("threads", threads))
    bound = bool(options.get("bound"))
    model = workload.torch_model()
    reused: list[str] = []

    def prepare(inputs: dict[str, np.ndarray]) -> tuple[Callable[..., Callable[[], Any]], float]:
        folder, meta, was_cached = tflite_file(workload, model, inputs)
        if was_cached:
            reused.append(shape_label(inputs))
        # --8<-- [start:litert-run]
        interpreter = Interpreter(model_path=str(folder / "model.tflite"), num_threads=threads)
        interpreter.allocate_tensors()
        # Inputs are named serving_default_args_<position>; 64-bit inputs were narrowed to 32 bits.
        slots = {d["name"].rsplit("_", 1)[-1]: d for d in interpreter.get_input_details()}
        output = interpreter.get_output_details()[0]["index"]
        last_set: list[Any] = [None]  # the feeds now in the interpreter's input tensors

        def make_call(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
            feeds = [
                (slots[str(i)]["index"], inputs[name].astype(slots[str(i)]["dtype"]))
                for i, name in enumerate(workload.INPUT_NAMES)
            ]

            def call() -> np.ndarray:
                if not bound or last_set[0] is not feeds:
                    for index, value in feeds:
                        interpreter.set_tensor(index, value)
                    last_set[0] = feeds
                interpreter.invoke()
                return interpreter.get_tensor(output)

            return call

        # --8<-- [end:litert-run]
        return make_call, meta["convert_s"]

    record: dict[str, Any] = {
        "engine": "litert",
        "converter": f"litert_torch {version('litert-torch')}",
        "runtime": f"ai_edge_litert {version('ai-edge-litert')}",
        "precision": "fp32",
        "intra_op_threads": threads,
        "inputs": "set once, bound to the request" if bound else "set before every call",
        "delegate": "XNNPACK (applied by default on CPU)",
        "shapes": "static: one .tflite per input shape",
        "reused_from_cache": reused,
    }
    costs: dict[str, float] = {}
    shapes = StaticShapes("LiteRT", workload, model, prepare, "convert_s", record, costs)
    shapes.build()
    return Variant(shapes.bind, shapes.predict, record, costs)
