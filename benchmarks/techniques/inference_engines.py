"""Inference engines against PyTorch eager (article claims C7 and C10).

The same model runs in PyTorch eager (the baseline), compiled by
``torch.compile`` (Inductor), exported to ONNX Runtime, converted to OpenVINO
(true FP32, OpenVINO's own defaults, and INT8 quantized post-training with
NNCF), and converted to LiteRT, the TensorFlow family's runtime (formerly
TensorFlow Lite). Every engine sets its thread count explicitly and records
what it really ran: the precision OpenVINO chose, the compiled or converted
shapes, the delegate.

Each engine's settings, conversion and run live in its module of
``benchmarks.engines`` (``torch_compile``, ``openvino``, ``litert``); engines that
fix shapes (``torch.compile`` with ``dynamic=False``, LiteRT) prepare one program
per input shape (``engines.common.StaticShapes``). The rules C7 and C10 are in
``benchmarks.claims.engines``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from benchmarks.engines.litert import PACKAGES as LITERT_PACKAGES
from benchmarks.engines.litert import REQUIRES as LITERT_REQUIRES
from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.techniques.onnxruntime import ORT_ALL, PYTORCH_EAGER

if TYPE_CHECKING:
    from benchmarks.engines import Variant


# ---- building variants (inside a worker process): each engine's own module ----------------------


def build_torch_compile(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """``torch.compile`` with Inductor in its default mode (``engines.torch_compile``)."""
    from benchmarks.engines import torch_compile

    return torch_compile.build(workload, options, threads, workdir)


def build_openvino(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """OpenVINO on the CPU, ``precision`` "f32", "default" or "int8" (``engines.openvino``)."""
    from benchmarks.engines import openvino

    return openvino.build(workload, options, threads, workdir)


def build_litert(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """LiteRT with XNNPACK, one converted file per input shape (``engines.litert``); options
    ``threads`` and ``bound`` give its tuned form."""
    from benchmarks.engines import litert

    return litert.build(workload, options, threads, workdir)


# ---- experiments -----------------------------------------------------------------------------

MODULE = "benchmarks.techniques.inference_engines"
TORCH_COMPILE = VariantSpec(
    "torch-compile",
    "torch.compile (Inductor) FP32",
    "torch.compile(Inductor)FP32",
    f"{MODULE}:build_torch_compile",
)
OPENVINO_F32 = VariantSpec(
    "openvino-f32",
    "OpenVINO, precision hint f32",
    "OpenVINO,精度提示 f32",
    f"{MODULE}:build_openvino",
    {"precision": "f32"},
    ("openvino",),
)
OPENVINO_DEFAULT = VariantSpec(
    "openvino-default",
    "OpenVINO, default settings (may run bf16)",
    "OpenVINO,默认设置(可能以 bf16 运行)",
    f"{MODULE}:build_openvino",
    {"precision": "default"},
    ("openvino",),
)
OPENVINO_INT8 = VariantSpec(
    "openvino-int8",
    "OpenVINO INT8 (NNCF post-training quantization)",
    "OpenVINO INT8(NNCF 训练后量化)",
    f"{MODULE}:build_openvino",
    {"precision": "int8"},
    ("openvino", "nncf"),
)
LITERT = VariantSpec(
    "litert",
    "LiteRT (TensorFlow Lite) FP32, XNNPACK",
    "LiteRT(TensorFlow Lite)FP32,XNNPACK",
    f"{MODULE}:build_litert",
    packages=LITERT_PACKAGES,
    requires=LITERT_REQUIRES,
)


def _batches(*batches: int) -> tuple[dict[str, int], ...]:
    return tuple({"batch": b} for b in batches)


def _tokens(*batches: int, seq_len: int = 128) -> tuple[dict[str, int], ...]:
    # Six engines share two cores: every point costs each of them its timed rounds, and every
    # compiled or converted shape costs seconds up front, so the default grid keeps only the
    # batch-1 reference point (whose program is also the one evaluation runs); the full grid
    # adds batches.
    return tuple({"batch": b, "seq_len": seq_len} for b in batches)


EXPERIMENTS = [
    Experiment(
        name="engines/digits-cnn",
        technique="engines",
        workload="digits-cnn",
        variants=(
            PYTORCH_EAGER,
            ORT_ALL,
            TORCH_COMPILE,
            OPENVINO_F32,
            OPENVINO_DEFAULT,
            OPENVINO_INT8,
            LITERT,
        ),
        grids={"toy": _batches(1, 8), "default": _batches(1, 256), "full": _batches(1, 32, 256)},
    ),
    Experiment(
        name="engines/minilm",
        technique="engines",
        workload="minilm",
        variants=(PYTORCH_EAGER, ORT_ALL, TORCH_COMPILE, OPENVINO_F32, OPENVINO_DEFAULT, OPENVINO_INT8),
        grids={"toy": _tokens(1), "default": _tokens(1), "full": _tokens(1, 8, 32)},
    ),
    # LiteRT's MiniLM conversion is its own experiment: should it fail, the failure is recorded
    # without erasing the other engines' figures.
    Experiment(
        name="engines/minilm-litert",
        technique="engines",
        workload="minilm",
        variants=(PYTORCH_EAGER, LITERT),
        grids={"toy": _tokens(1), "default": _tokens(1), "full": _tokens(1, 8)},
        requires=LITERT_REQUIRES,
    ),
    Experiment(
        name="engines/resnet50",
        technique="engines",
        workload="resnet50",
        variants=(PYTORCH_EAGER, ORT_ALL, OPENVINO_F32, OPENVINO_DEFAULT, OPENVINO_INT8),
        grids={"toy": _batches(1), "default": _batches(1), "full": _batches(1, 8)},
    ),
]
