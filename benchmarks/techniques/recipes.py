"""Recipes against what a reader would use instead, measured in the same run.

``recipes/<workload>`` puts, in one experiment (so in paired rounds, on the same
inputs and threads, each variant in its own process):

* **peers**, what a user picks without this guide: sentence-transformers' own
  backends (PyTorch, ONNX, ONNX optimised at Optimum's O3 level, ONNX INT8
  dynamic quantization, OpenVINO, OpenVINO INT8 static quantization), which
  run through Hugging Face Optimum (``ORTModelForFeatureExtraction``,
  ``ORTOptimizer``, ``ORTQuantizer``, ``OVModelForFeatureExtraction``,
  ``OVQuantizer``), and each engine at its plain defaults;
* **recipe candidates**, the combinations the rest of this site found worth
  trying on the workload.

The recipe is not chosen by hand: ``select`` (in ``benchmarks.claims.recipes``)
takes the fastest candidate that meets the workload's quality bar (the rule of
``benchmarks.summary``), the fastest peer that meets the same bar, and the ratio
of the two from their paired rounds. The peers run through
``benchmarks.engines.sentence_transformers``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from benchmarks.engines.litert import BOUND, BOUND_ONE_THREAD
from benchmarks.engines.sentence_transformers import ST_PACKAGES
from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.techniques.inference_engines import LITERT, OPENVINO_INT8
from benchmarks.techniques.onnxruntime import ORT_PACKAGES, PYTORCH_EAGER

if TYPE_CHECKING:
    from benchmarks.engines import Variant

MODULE = "benchmarks.techniques.recipes"
PEER, CANDIDATE = "peer", "recipe candidate"


# ---- building variants (inside a worker) ------------------------------------------------------


def build_sentence_transformers(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """A sentence-transformers model on one backend, as its documentation shows it
    (``engines.sentence_transformers``)."""
    from benchmarks.engines import sentence_transformers

    return sentence_transformers.build(workload, options, threads, workdir)


def build_openvino_static(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """OpenVINO compiled per input shape, latency hint, inputs bound once (``engines.openvino``)."""
    from benchmarks.engines import openvino

    return openvino.build_static(workload, options, threads, workdir)


def build_ort_tuned(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """ONNX Runtime with all graph optimisations, inputs and outputs bound once, and its own
    thread count (``options["threads"]``; the run's when absent)."""
    from benchmarks.techniques.onnxruntime import build_ort_graph

    own = int(options.get("threads", threads))
    variant = build_ort_graph(workload, {"opt_level": "all", "io_binding": True}, own, workdir)
    variant.info["compute_precision"] = "fp32"
    variant.info["threads"] = own
    return variant


def build_eager_with_flops(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """The PyTorch eager FP32 baseline, which also counts the model's FLOPs per item at every shape
    the recipe grids use (the roofline places each variant with them)."""
    from benchmarks.engines.pytorch import build_pytorch_eager
    from benchmarks.points import arithmetic

    variant = build_pytorch_eager(workload, options, threads, workdir)
    grids = next(e.grids for e in EXPERIMENTS if e.workload == workload.NAME)
    variant.info.update(arithmetic(workload.torch_model(), workload, grids))
    variant.info["compute_precision"] = "fp32"
    return variant


# ---- experiments -------------------------------------------------------------------------------

BASELINE = VariantSpec(
    PYTORCH_EAGER.name, PYTORCH_EAGER.label, PYTORCH_EAGER.label_zh, f"{MODULE}:build_eager_with_flops"
)


def _st(name: str, label: str, label_zh: str, backend: str, export: str | None = None) -> VariantSpec:
    options = {"backend": backend, "role": PEER} | ({"export": export} if export else {})
    engine = {"torch": (), "onnx": ORT_PACKAGES, "openvino": ("openvino", "nncf")}[backend]
    return VariantSpec(
        name, label, label_zh, f"{MODULE}:build_sentence_transformers", options, ST_PACKAGES + engine
    )


MINILM_PEERS = (
    _st(
        "st-torch",
        "sentence-transformers, PyTorch backend (its default)",
        "sentence-transformers,PyTorch 后端(默认)",
        "torch",
    ),
    _st("st-onnx", 'sentence-transformers, backend="onnx"', 'sentence-transformers,backend="onnx"', "onnx"),
    _st(
        "st-onnx-o3",
        "sentence-transformers ONNX, Optimum O3 graph optimisation",
        "sentence-transformers ONNX,Optimum O3 图优化",
        "onnx",
        "O3",
    ),
    _st(
        "st-onnx-qint8",
        "sentence-transformers ONNX, dynamic INT8 (ORTQuantizer)",
        "sentence-transformers ONNX,动态 INT8(ORTQuantizer)",
        "onnx",
        "qint8",
    ),
    _st(
        "st-openvino",
        'sentence-transformers, backend="openvino"',
        'sentence-transformers,backend="openvino"',
        "openvino",
    ),
    _st(
        "st-openvino-qint8",
        "sentence-transformers OpenVINO, static INT8 (OVQuantizer, NNCF)",
        "sentence-transformers OpenVINO,静态 INT8(OVQuantizer、NNCF)",
        "openvino",
        "ov-qint8",
    ),
)

ORT_DEFAULTS = VariantSpec(
    "onnxruntime-defaults",
    "ONNX Runtime at its defaults (threads set)",
    "ONNX Runtime 默认设置(设定线程数)",
    "benchmarks.techniques.onnxruntime:build_ort_graph",
    {"opt_level": "all", "export": "plain", "session": "defaults", "role": PEER},
    ORT_PACKAGES,
)
OPENVINO_DEFAULTS = VariantSpec(
    "openvino-defaults",
    "OpenVINO at its defaults (threads set)",
    "OpenVINO 默认设置(设定线程数)",
    "benchmarks.techniques.inference_engines:build_openvino",
    {"precision": "default", "role": PEER},
    ("openvino",),
)
OPENVINO_STATIC = VariantSpec(
    "recipe-openvino-static",
    "OpenVINO, its CPU precision, static shapes, latency hint, bound inputs",
    "OpenVINO,CPU 自选精度、静态形状、延迟优先、输入预绑定",
    f"{MODULE}:build_openvino_static",
    {"role": CANDIDATE},
    ("openvino",),
)
OPENVINO_STATIC_F32 = VariantSpec(
    "recipe-openvino-static-f32",
    "OpenVINO FP32, static shapes, latency hint, bound inputs",
    "OpenVINO FP32,静态形状、延迟优先、输入预绑定",
    f"{MODULE}:build_openvino_static",
    {"role": CANDIDATE, "precision": "f32"},
    ("openvino",),
)
OPENVINO_INT8_PEER = VariantSpec(
    "openvino-int8-nncf",
    "OpenVINO INT8, NNCF at its defaults",
    "OpenVINO INT8,NNCF 默认设置",
    OPENVINO_INT8.builder,
    {**OPENVINO_INT8.options, "role": PEER},
    OPENVINO_INT8.packages,
)
LITERT_PEER = replace(LITERT, options={"role": PEER})
ORT_BOUND = VariantSpec(
    "recipe-ort-bound",
    "ONNX Runtime, all optimisations, IO binding, all cores",
    "ONNX Runtime,全部优化、IO 绑定、全部核心",
    f"{MODULE}:build_ort_tuned",
    {"role": CANDIDATE},
    ORT_PACKAGES,
)
LITERT_BOUND = VariantSpec(
    "recipe-litert-bound",
    "LiteRT (XNNPACK), inputs bound once, all cores",
    "LiteRT(XNNPACK),输入只绑定一次、全部核心",
    LITERT.builder,
    {"role": CANDIDATE, **BOUND},
    LITERT.packages,
    requires=LITERT.requires,
)
LITERT_BOUND_1T = VariantSpec(
    "recipe-litert-bound-1t",
    "LiteRT (XNNPACK), inputs bound once, one thread",
    "LiteRT(XNNPACK),输入只绑定一次、单线程",
    LITERT.builder,
    {"role": CANDIDATE, **BOUND_ONE_THREAD},
    LITERT.packages,
    requires=LITERT.requires,
)
OPENVINO_STATIC_INT8 = VariantSpec(
    "recipe-openvino-static-int8",
    "OpenVINO INT8 (NNCF; transformers: SmoothQuant), static shapes, latency hint, bound inputs",
    "OpenVINO INT8(NNCF;Transformer 模型另加 SmoothQuant),静态形状、延迟优先、输入预绑定",
    f"{MODULE}:build_openvino_static",
    {"role": CANDIDATE, "precision": "int8"},
    ("openvino", "nncf"),
)
OPENVINO_STATIC_INT8_AC = VariantSpec(
    "recipe-openvino-static-int8-ac",
    "OpenVINO INT8, NNCF accuracy control (sensitive layers kept in float by measurement), static "
    "shapes, latency hint",
    "OpenVINO INT8,NNCF 精度控制(按实测敏感度把敏感层留在浮点)、静态形状、延迟优先",
    f"{MODULE}:build_openvino_static",
    {"role": CANDIDATE, "precision": "int8-ac"},
    ("openvino", "nncf"),
)
ORT_INT8_DYNAMIC_BOUND = VariantSpec(
    "recipe-ort-int8-dynamic-pc",
    "ONNX Runtime dynamic INT8, per-channel weight scales, all optimisations, IO binding",
    "ONNX Runtime 动态 INT8,按通道的权重缩放、全部优化、IO 绑定",
    "benchmarks.techniques.quantization:build_onnxruntime_int8",
    {"role": CANDIDATE, "mode": "dynamic", "per_channel": True, "io_binding": True},
    ORT_PACKAGES,
)
ORT_INT8_STATIC_BOUND = VariantSpec(
    "recipe-ort-int8-static-pc",
    "ONNX Runtime static INT8 (QDQ, per-channel, calibrated on the training corpus; FFN outputs in "
    "FP32), all optimisations, IO binding",
    "ONNX Runtime 静态 INT8(QDQ、按通道、用训练语料校准;FFN 输出层保持 FP32),全部优化、IO 绑定",
    "benchmarks.techniques.quantization:build_onnxruntime_int8",
    # The scope the quantization page measured: every Linear layer but the FFN outputs, fed by
    # GELU, whose outliers one static range per tensor cannot hold.
    {
        "role": CANDIDATE,
        "mode": "static",
        "per_channel": True,
        "scope": "linear-except-gelu",
        "io_binding": True,
    },
    ORT_PACKAGES,
)
ORT_BOUND_1T = VariantSpec(
    "recipe-ort-bound-1t",
    "ONNX Runtime, all optimisations, IO binding, one thread",
    "ONNX Runtime,全部优化、IO 绑定、单线程",
    f"{MODULE}:build_ort_tuned",
    {"role": CANDIDATE, "threads": 1},
    ORT_PACKAGES,
)

EXPERIMENTS = [
    Experiment(
        name="recipes/minilm",
        technique="recipes",
        workload="minilm",
        variants=(
            BASELINE,
            *MINILM_PEERS,
            ORT_DEFAULTS,
            OPENVINO_DEFAULTS,
            OPENVINO_STATIC,
            OPENVINO_STATIC_F32,
            # NNCF with accuracy control: its plain INT8 plus a measured check that returns the most
            # sensitive layers to float until the validation metric holds (plain NNCF on its own
            # would be the same model whenever no layer needs returning).
            OPENVINO_STATIC_INT8_AC,
            ORT_INT8_DYNAMIC_BOUND,
            ORT_INT8_STATIC_BOUND,
        ),
        grids={
            "toy": ({"batch": 1, "seq_len": 16},),
            "default": ({"batch": 1, "seq_len": 128}, {"batch": 8, "seq_len": 128}),
            "full": ({"batch": 1, "seq_len": 128}, {"batch": 8, "seq_len": 128}),
        },
    ),
    Experiment(
        name="recipes/digits-cnn",
        technique="recipes",
        workload="digits-cnn",
        variants=(
            BASELINE,
            ORT_DEFAULTS,
            OPENVINO_DEFAULTS,
            OPENVINO_INT8_PEER,
            LITERT_PEER,
            ORT_BOUND,
            ORT_BOUND_1T,
            OPENVINO_STATIC,
            OPENVINO_STATIC_INT8,
            LITERT_BOUND,
            LITERT_BOUND_1T,
        ),
        grids={
            "toy": ({"batch": 1}, {"batch": 8}),
            "default": ({"batch": 1}, {"batch": 8}),
            "full": ({"batch": 1}, {"batch": 8}, {"batch": 256}),
        },
    ),
    # Random weights (labelled so on every page): only fidelity to FP32 is judged. LiteRT is left out
    # here as on the engines page: converting ResNet-50 costs more than the rest of the experiment.
    Experiment(
        name="recipes/resnet50",
        technique="recipes",
        workload="resnet50",
        variants=(
            BASELINE,
            ORT_DEFAULTS,
            OPENVINO_DEFAULTS,
            OPENVINO_INT8_PEER,
            ORT_BOUND,
            OPENVINO_STATIC,
            OPENVINO_STATIC_F32,
            OPENVINO_STATIC_INT8,
        ),
        grids={
            "toy": ({"batch": 1},),
            "default": ({"batch": 1}, {"batch": 8}),
            "full": ({"batch": 1}, {"batch": 8}),
        },
    ),
]
RECIPE_EXPERIMENTS = tuple(e.name for e in EXPERIMENTS)
