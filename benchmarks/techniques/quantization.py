"""Quantization: INT8 (dynamic and static) and BF16, the project's addition to the article.

The article does not mention quantization; it is here because on today's CPUs it
is often the strongest single lever (claim Q1 checks that on this machine). Variants:

- ONNX Runtime dynamic INT8: weights of the matrix multiplications stored as
  int8; activations quantised to uint8 at run time, per call, from their own range.
- ONNX Runtime static INT8 (QDQ): activation ranges fixed beforehand by calibration
  on data that is not the evaluation set; QuantizeLinear/DequantizeLinear pairs
  that ONNX Runtime fuses into integer kernels.
- PyTorch dynamic INT8 (``torch.ao.quantization.quantize_dynamic`` on ``nn.Linear``).
- PyTorch BF16: the whole model cast to bfloat16.

Static INT8's calibration lives in ``quantization_static``, the graph counts and
the Gemm rewrite in ``quantization_graphs``; rule Q1 in ``benchmarks.claims.quantization``.
Heavy imports (torch, onnx, onnxruntime) stay inside functions.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.points import grid
from benchmarks.techniques.onnxruntime import ORT_ALL, ORT_PACKAGES, PYTORCH_EAGER
from benchmarks.techniques.quantization_graphs import (
    file_mb,
    float_ops,
    gemm_to_matmul,
    integer_kernels,
    op_counts,
    ops_text,
    quiet_preprocess_advice,
)
from benchmarks.techniques.quantization_static import (
    CALIBRATION_SOURCE,
    calibration_inputs,
    quantize_onnx_static,
)

# ---- quantising ONNX files --------------------------------------------------------------------


# --8<-- [start:dynamic]
def quantize_onnx_dynamic(fp32_path: Path, int8_path: Path, per_channel: bool = False) -> dict[str, Any]:
    """INT8 weights for every MatMul with a constant weight; activations quantised per call.

    ``per_channel`` False is ONNX Runtime's default: one weight scale per matrix; True: one
    scale per output column, which keeps more precision and may run slower.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet_preprocess_advice()
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    start = time.perf_counter()
    source = int8_path.with_name(f"{int8_path.stem}.matmul.onnx")
    rewritten = gemm_to_matmul(fp32_path, source)
    quantize_dynamic(
        source,
        int8_path,
        op_types_to_quantize=["MatMul"],  # the Linear layers, as PyTorch's dynamic INT8 does
        weight_type=QuantType.QInt8,
        per_channel=per_channel,
        reduce_range=False,
    )
    quantize_s = time.perf_counter() - start
    # --8<-- [end:dynamic]
    return {
        "method": "dynamic",
        "format": "QOperator (MatMulInteger + DynamicQuantizeLinear)",
        "op_types_quantized": ["MatMul"],
        "gemm_rewritten_as_matmul": rewritten,
        "weight_type": "QInt8",
        "activation_type": "QUInt8 (range computed per call)",
        "per_channel": per_channel,
        "reduce_range": False,
        "quantize_s": quantize_s,
        "fp32_file_mb": file_mb(fp32_path),
        "int8_file_mb": file_mb(int8_path),
        "graph_ops": op_counts(int8_path),
    }


# ---- the FP32 ONNX file -----------------------------------------------------------------------


def fp32_onnx(
    workload: ModuleType, model: Any = None, threads: int | None = None
) -> tuple[Path, dict[str, Any], float]:
    """The workload's chosen export (``engines.onnxruntime.exported_model``): one cached file, shared with
    ONNX Runtime FP32.

    Returns the path, the export record (``export_cached`` tells whether this call
    reused the file) and the seconds the export took when it ran: a one-time cost
    whether or not this call reused it.
    """
    import os

    from benchmarks.engines.onnxruntime import exported_model

    threads = threads or len(os.sched_getaffinity(0))
    path, record = exported_model(model if model is not None else workload.torch_model(), workload, threads)
    record = dict(record)
    export_s = float(record.pop("export_s"))
    record["export_cached"] = bool(record.pop("export_reused", False))
    return path, record, export_s


# ---- ONNX Runtime INT8 variants ---------------------------------------------------------------


def output_width(path: Path) -> int | None:
    import onnx

    dims = onnx.load(str(path), load_external_data=False).graph.output[0].type.tensor_type.shape.dim
    return dims[-1].dim_value if dims and dims[-1].HasField("dim_value") else None


def check_runs(
    predict: Callable[[dict[str, np.ndarray]], np.ndarray], workload: ModuleType, width: int | None
):
    """No parity for INT8 (its outputs differ by design): it must run and give the right shape."""
    for inputs in workload.parity_inputs():
        batch = next(iter(inputs.values())).shape[0]
        out = predict(inputs)
        if out.ndim != 2 or out.shape[0] != batch or (width is not None and out.shape[1] != width):
            raise RuntimeError(f"quantised model output has shape {out.shape}, expected ({batch}, {width})")
        if not np.all(np.isfinite(out)):
            raise RuntimeError("quantised model output holds NaN or infinity")


def build_onnxruntime_int8(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """Export (shared, cached), quantise dynamically or statically, run in ONNX Runtime on the CPU."""
    import torch

    from benchmarks.engines import Variant
    from benchmarks.engines.onnxruntime import ort_session_options, tuned_session
    from benchmarks.engines.pytorch import cpu_vnni

    torch.set_num_threads(threads)
    # The same FP32 file as the ONNX Runtime FP32 variant: exported once per model and shared.
    fp32_path, export_info, export_s = fp32_onnx(workload, threads=threads)
    int8_path = workdir / f"{workload.NAME}.int8.onnx"
    mode = options["mode"]
    costs: dict[str, float] = {"export_s": export_s}
    if mode == "dynamic":
        record = quantize_onnx_dynamic(fp32_path, int8_path, per_channel=options.get("per_channel", False))
    elif mode == "static":
        start = time.perf_counter()
        calibration = calibration_inputs(workload)
        prepare_s = time.perf_counter() - start
        record = quantize_onnx_static(
            fp32_path,
            int8_path,
            calibration,
            per_channel=options.get("per_channel", True),
            scope=options.get("scope", "all"),
        )
        record["calibration_source"] = CALIBRATION_SOURCE[workload.NAME]
        costs["calibration_data_s"] = prepare_s
        costs["calibration_s"] = record["calibration_s"]
    else:
        raise ValueError(f"unknown quantization mode {mode!r}")
    costs["quantize_s"] = record["quantize_s"]

    optimized = workdir / f"{workload.NAME}.int8.optimized.onnx"
    start = time.perf_counter()
    session = tuned_session(int8_path, threads, optimized)
    costs["session_create_s"] = time.perf_counter() - start

    io_binding = bool(options.get("io_binding"))

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        if io_binding:  # inputs and outputs bound once, as the tuned FP32 session runs
            from benchmarks.techniques.onnxruntime import io_binding_call

            return io_binding_call(session, inputs)[0]
        return lambda: session.run(None, inputs)

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return session.run(None, inputs)[0]

    check_runs(predict, workload, output_width(fp32_path))
    executed, left_float = op_counts(optimized), float_ops(optimized)
    info = {
        "engine": "onnxruntime",
        "precision": (
            f"int8 {mode}, {'per-channel' if record['per_channel'] else 'per-tensor'} weight scales "
            "(weights int8, activations uint8)"
        ),
        "providers": session.get_providers(),
        "io_binding": io_binding,
        "compute_precision": "int8",
        **ort_session_options(threads)[1],
        "cpu_vnni": cpu_vnni(),
        **{
            k: v
            for k, v in export_info.items()
            if k in ("exporter", "export_candidate", "opset", "export_cached", "export_chosen")
        },
        **{k: v for k, v in record.items() if not k.endswith("_s")},
        "executed_graph_ops": executed,
        "executed_integer_kernels": integer_kernels(executed),
        "executed_float_ops": left_float,
        # The same counts as text, for pages (bench:figure shows one value).
        "graph_ops_text": ops_text(record["graph_ops"]),
        "executed_ops_text": ops_text(executed),
        "executed_float_ops_text": ops_text(left_float),
    }
    return Variant(bind, predict, info, costs)


# ---- PyTorch INT8 and BF16 variants -----------------------------------------------------------


# --8<-- [start:torch-dynamic]
def torch_dynamic_int8(model: Any) -> tuple[Any, list[str]]:
    """INT8 weights (one scale per output channel) for every nn.Linear; activations quantised per call."""
    import torch
    from torch.ao import quantization as tq

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quantized = tq.quantize_dynamic(model, {torch.nn.Linear: tq.per_channel_dynamic_qconfig})
    # --8<-- [end:torch-dynamic]
    notes = sorted({str(w.message).splitlines()[0].strip() for w in caught if "deprecat" in str(w.message)})
    return quantized, notes


def build_torch_dynamic_int8(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """``torch.ao.quantization.quantize_dynamic``: deprecated in favour of torchao, still working in 2.13."""
    import torch

    from benchmarks.engines.pytorch import cpu_vnni, torch_variant
    from benchmarks.model_stats import model_size

    torch.set_num_threads(threads)
    start = time.perf_counter()
    model = workload.torch_model()
    load_s = time.perf_counter() - start
    fp32 = model_size(model)
    start = time.perf_counter()
    quantized, notes = torch_dynamic_int8(model)
    quantize_s = time.perf_counter() - start
    layers = sum(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in quantized.modules())
    if layers == 0:
        raise RuntimeError("quantize_dynamic replaced no nn.Linear layer")
    variant = torch_variant(
        quantized,
        {"load_s": load_s, "quantize_s": quantize_s},
        precision="int8 dynamic (Linear weights int8, activations uint8 per call)",
        per_channel=True,
        quantized_linear_layers=layers,
        quantized_engine=torch.backends.quantized.engine,
        api="torch.ao.quantization.quantize_dynamic",
        api_deprecation=notes,
        fp32_model_mb=fp32["model_mb"],
        # Packed int8 weights are not float tensors: count parameters on the FP32 model.
        params=fp32["params"],
        nonzero_params=fp32["nonzero_params"],
        cpu_vnni=cpu_vnni(),
    )
    check_runs(variant.predict, workload, None)
    return variant


# --8<-- [start:bf16]
def to_bf16(model: Any) -> Any:
    """The model in bfloat16; float inputs are cast on the way in, outputs back to float32."""
    import torch

    class BF16(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner.to(torch.bfloat16)

        def forward(self, **inputs: torch.Tensor) -> torch.Tensor:
            cast = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in inputs.items()}
            return self.inner(**cast).float()

    return BF16(model).eval()


# --8<-- [end:bf16]


def build_torch_bf16(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import torch

    from benchmarks.engines.pytorch import cpu_bf16_support, torch_variant

    torch.set_num_threads(threads)
    start = time.perf_counter()
    model = workload.torch_model()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    bf16 = to_bf16(model)
    convert_s = time.perf_counter() - start
    dtypes = sorted({str(p.dtype).removeprefix("torch.") for p in bf16.parameters()})
    support = cpu_bf16_support()
    native = bool(support.get("avx512_bf16") or support.get("amx_tile"))
    variant = torch_variant(
        bf16,
        {"load_s": load_s, "convert_s": convert_s},
        precision="bf16 (weights and activations)",
        parameter_dtypes=dtypes,
        bf16_native_instructions=native,
        **support,
    )
    check_runs(variant.predict, workload, None)
    return variant


# ---- experiments ------------------------------------------------------------------------------

# ONNX Runtime's dynamic quantiser at its defaults (one weight scale per matrix), and the tuned
# choice beside it (one per output channel: more precision, and a cost in speed to be measured).
ORT_DYNAMIC = VariantSpec(
    "ort-int8-dynamic",
    "ONNX Runtime dynamic INT8 (its defaults: per-tensor weight scales)",
    "ONNX Runtime 动态 INT8(默认:按张量的权重缩放)",
    "benchmarks.techniques.quantization:build_onnxruntime_int8",
    {"mode": "dynamic", "per_channel": False},
    ORT_PACKAGES,
)
ORT_DYNAMIC_PER_CHANNEL = VariantSpec(
    "ort-int8-dynamic-per-channel",
    "ONNX Runtime dynamic INT8, per-channel weight scales",
    "ONNX Runtime 动态 INT8,按通道的权重缩放",
    "benchmarks.techniques.quantization:build_onnxruntime_int8",
    {"mode": "dynamic", "per_channel": True},
    ORT_PACKAGES,
)


def _ort_static(scope: str) -> VariantSpec:
    return VariantSpec(
        "ort-int8-static",
        "ONNX Runtime static INT8 (QDQ, calibrated)",
        "ONNX Runtime 静态 INT8(QDQ,经校准)",
        "benchmarks.techniques.quantization:build_onnxruntime_int8",
        {"mode": "static", "per_channel": True, "scope": scope},
        ORT_PACKAGES,
    )


TORCH_DYNAMIC = VariantSpec(
    "pytorch-int8-dynamic",
    "PyTorch dynamic INT8 (Linear layers)",
    "PyTorch 动态 INT8(线性层)",
    "benchmarks.techniques.quantization:build_torch_dynamic_int8",
)
TORCH_BF16 = VariantSpec(
    "pytorch-bf16",
    "PyTorch BF16",
    "PyTorch BF16",
    "benchmarks.techniques.quantization:build_torch_bf16",
)

EXPERIMENTS = [
    Experiment(
        name="quantization/minilm",
        technique="quantization",
        workload="minilm",
        variants=(
            PYTORCH_EAGER,
            ORT_ALL,
            ORT_DYNAMIC,
            ORT_DYNAMIC_PER_CHANNEL,
            # The Linear layers except the FFN outputs (fed by GELU, whose outliers a
            # static range cannot hold); softmax, layer norm and embeddings stay FP32.
            _ort_static("linear-except-gelu"),
            TORCH_DYNAMIC,
            TORCH_BF16,
        ),
        grids={
            # The reference point (batch 1 x 128 tokens, which rule Q1 and other pages read)
            # is in every profile; batch 2 checks the dynamic batch axis at toy size.
            "toy": ({"batch": 1, "seq_len": 128}, {"batch": 2, "seq_len": 16}),
            # Batch 8 x 128 tokens does not fit the default profile's time with six variants.
            "default": grid((1,), (128,)),
            "full": grid((1, 8), (32, 128)),
        },
    ),
    Experiment(
        name="quantization/digits-cnn",
        technique="quantization",
        workload="digits-cnn",
        variants=(
            PYTORCH_EAGER,
            ORT_ALL,
            ORT_DYNAMIC,  # the two Linear layers only: dynamic INT8 leaves convolutions in FP32
            ORT_DYNAMIC_PER_CHANNEL,
            _ort_static("all"),  # convolutions too
            TORCH_DYNAMIC,
            TORCH_BF16,
        ),
        grids={
            "toy": grid((1, 8)),
            "default": grid((1, 256)),
            "full": grid((1, 32, 256, 1024)),
        },
    ),
    Experiment(
        name="quantization/resnet50",
        technique="quantization",
        workload="resnet50",
        # PyTorch eager FP32 is the baseline, as everywhere; ONNX Runtime FP32 is what
        # static INT8 is usually weighed against.
        variants=(PYTORCH_EAGER, ORT_ALL, _ort_static("all"), TORCH_BF16),
        grids={
            "toy": ({"batch": 1, "image_size": 64},),
            "default": ({"batch": 1},),
            "full": ({"batch": 1}, {"batch": 8}),
        },
    ),
]
