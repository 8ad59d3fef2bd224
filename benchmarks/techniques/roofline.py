"""Machine limits (the roofline): peak GEMM throughput in FP32 (two libraries), BF16 and INT8,
and memory bandwidth; eager models are placed against them (``roofline_data``).

Top-level imports stay light: torch loads inside the probes. The chart and its table are drawn by
``benchmarks.report.roofline``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.points import shape_key, usable_cores

SEED = 0

GEMM_SIZE = 1024  # square GEMM: 2.1 GFLOP, large enough to reach the kernels' peak on a few cores
COPY_MB = 512  # well above the last-level cache of common CPUs, so the copy goes through DRAM


def gemm_call(
    kind: str, n: int = GEMM_SIZE, threads: int | None = None
) -> tuple[Callable[[], Any], dict[str, Any]]:
    """A zero-argument n x n x n matrix product of one precision and library, with what it is
    (``threads``: an engine's own thread count, OpenVINO's and ONNX Runtime's; all usable cores
    when None)."""
    import torch

    generator = torch.Generator().manual_seed(SEED)
    a, b = torch.randn(n, n, generator=generator), torch.randn(n, n, generator=generator)
    about: dict[str, Any] = {"kind": kind, "size": n, "flops_per_call": 2 * n**3}
    if kind == "fp32-torch":
        about |= {"library": f"torch {torch.__version__} (MKL/oneDNN)", "dtype": "float32"}
        fn = lambda: torch.matmul(a, b)  # noqa: E731
        check = float((torch.matmul(a[:64], b).double() - a[:64].double() @ b.double()).abs().max())
    elif kind == "fp32-numpy":
        an, bn = a.numpy(), b.numpy()
        about |= {"library": f"numpy {np.__version__} ({_numpy_blas()})", "dtype": "float32"}
        fn = lambda: an @ bn  # noqa: E731
        check = float(np.abs(an[:64] @ bn - an[:64].astype(np.float64) @ bn.astype(np.float64)).max())
    elif kind == "bf16-torch":
        ab, bb = a.bfloat16(), b.bfloat16()
        about |= {"library": f"torch {torch.__version__} (oneDNN)", "dtype": "bfloat16"}
        fn = lambda: torch.matmul(ab, bb)  # noqa: E731
        check = float((torch.matmul(ab[:64], bb).double() - ab[:64].double() @ bb.double()).abs().max())
    elif kind == "int8":
        ai = torch.randint(-128, 128, (n, n), dtype=torch.int8, generator=generator)
        bi = torch.randint(-128, 128, (n, n), dtype=torch.int8, generator=generator)
        about |= {"dtype": "int8 x int8 -> int32", "flops_per_call_note": "integer operations"}
        if hasattr(torch, "_int_mm"):
            about["library"] = f"torch {torch.__version__} torch._int_mm"
            fn = lambda: torch._int_mm(ai, bi)  # noqa: E731
            got = torch._int_mm(ai[:64].contiguous(), bi)
        else:
            fn, about["library"] = _ort_int8_matmul(ai.numpy(), bi.numpy())
            got = torch.from_numpy(fn())[:64]
        check = float((got.long() - ai[:64].long() @ bi.long()).abs().max())
    elif kind in ENGINE_GEMMS:
        fn, engine_about, check = ENGINE_GEMMS[kind](a.numpy(), b.numpy(), threads or usable_cores())
        about |= engine_about
    else:
        raise ValueError(f"unknown GEMM kind {kind!r}")
    about.setdefault("compute_precision", PRECISION_OF_DTYPE.get(about["dtype"], "fp32"))
    about["max_abs_error_vs_float64"] = check
    return fn, about


# What each dtype computes in, for the peaks (``benchmarks.claims.peaks``).
PRECISION_OF_DTYPE = {"float32": "fp32", "bfloat16": "bf16", "int8 x int8 -> int32": "int8"}


def _ov_runtime(compiled: Any) -> tuple[str, dict[str, int]]:
    """The precision OpenVINO's heavy layer really ran in, and every heavy layer's precision."""
    from benchmarks.engines.openvino import precision_class, runtime_precisions

    heavy = runtime_precisions(compiled)[1]
    return precision_class(heavy), heavy


def _ov_gemm(a: np.ndarray, b: np.ndarray, threads: int, hint: str, quantize: bool = False):
    """``a @ b`` through OpenVINO's CPU plugin: a one-MatMul model whose ``b`` is a constant (as a
    model's weights are), compiled with ``hint`` as its inference precision; ``quantize`` puts
    FakeQuantize (256 levels on ``a``, 255 symmetric levels on ``b``) before it, the pattern NNCF
    writes, which the plugin runs as an int8 matrix product."""
    import openvino as ov
    import openvino.opset13 as ops

    from benchmarks.engines.openvino import compile_config

    x = ops.parameter(list(a.shape), ov.Type.f32, name="a")
    weights: Any = ops.constant(b)
    lhs: Any = x
    ref_a, ref_b = a.astype(np.float64), b.astype(np.float64)
    if quantize:
        ra, rb = float(np.abs(a).max()), float(np.abs(b).max())

        def fq(node: Any, r: float, levels: int) -> Any:
            lo, hi = ops.constant(np.float32(-r)), ops.constant(np.float32(r))
            return ops.fake_quantize(node, lo, hi, lo, hi, levels)

        lhs, weights = fq(x, ra, 256), fq(weights, rb, 255)
        ref_a, ref_b = _fake_quantize(a, ra, 256), _fake_quantize(b, rb, 255)
    model = ov.Model([ops.matmul(lhs, weights, False, False)], [x], "gemm")
    config = compile_config(threads, "f32" if hint == "f32" else "default")
    if hint != "f32":
        config["INFERENCE_PRECISION_HINT"] = hint
    compiled = ov.Core().compile_model(model, "CPU", config)
    request = compiled.create_infer_request()
    request.set_tensor("a", ov.Tensor(np.ascontiguousarray(a)))
    precision, heavy = _ov_runtime(compiled)
    got = np.array(request.infer()[0])[:64].astype(np.float64)
    check = float(np.abs(got - ref_a[:64] @ ref_b).max())
    about = {
        "library": f"openvino {ov.get_version()} CPU plugin",
        "dtype": {"fp32": "float32", "bf16": "bfloat16", "int8": "int8 x int8 -> int32"}[precision],
        "compute_precision": precision,
        "inference_precision_hint": compiled.get_property("INFERENCE_PRECISION_HINT").to_string(),
        "heavy_layer_precisions": heavy,
        "weights": "constant",
        "threads": threads,
    }
    if quantize:
        about["check_against"] = "float64 product of the fake-quantised inputs"
    return request.infer, about, check


def _fake_quantize(x: np.ndarray, r: float, levels: int) -> np.ndarray:
    """What FakeQuantize with range [-r, r] and ``levels`` levels makes of ``x``, in float64."""
    step = 2 * r / (levels - 1)
    return np.round((np.clip(x, -r, r) + r) / step) * step - r


def _ort_gemm(a: np.ndarray, b: np.ndarray, threads: int, int8: bool = False):
    """``a @ b`` through ONNX Runtime's MLAS with the site's tuned session options, ``b`` an
    initializer (weights; MLAS packs it once): MatMul in FP32, or MatMulInteger on uint8
    activations and int8 weights, the pair VNNI's VPDPBUSD multiplies."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from benchmarks.engines.onnxruntime import ort_session_options

    if int8:
        generator = np.random.default_rng(SEED)
        a = generator.integers(0, 256, a.shape, dtype=np.uint8)
        b = generator.integers(-128, 128, b.shape, dtype=np.int8)
        node = helper.make_node("MatMulInteger", ["a", "b"], ["y"])
        in_type, out_type = TensorProto.UINT8, TensorProto.INT32
    else:
        node = helper.make_node("MatMul", ["a", "b"], ["y"])
        in_type, out_type = TensorProto.FLOAT, TensorProto.FLOAT
    graph = helper.make_graph(
        [node],
        "gemm",
        [helper.make_tensor_value_info("a", in_type, list(a.shape))],
        [helper.make_tensor_value_info("y", out_type, [a.shape[0], b.shape[1]])],
        initializer=[numpy_helper.from_array(b, "b")],
    )
    # IR version 8 (opset 17's): onnx writes its newest, which ONNX Runtime may not read yet.
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options, settings = ort_session_options(threads)
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feeds = {"a": a}
    got = session.run(None, feeds)[0][:64]
    expected = a[:64].astype(np.int64 if int8 else np.float64) @ b.astype(np.int64 if int8 else np.float64)
    check = float(np.abs(got.astype(expected.dtype) - expected).max())
    op = "MatMulInteger (uint8 x int8)" if int8 else "MatMul"
    about = {
        "library": f"onnxruntime {ort.__version__} MLAS {op}",
        "dtype": "int8 x int8 -> int32" if int8 else "float32",
        "weights": "initializer",
        **settings,
    }
    return (lambda: session.run(None, feeds)), about, check


# Each engine's own GEMM, by kind: (a, b) float32 -> (call, what it is, max error on 64 rows).
EngineGemm = Callable[[np.ndarray, np.ndarray, int], tuple[Callable[[], Any], dict[str, Any], float]]
ENGINE_GEMMS: dict[str, EngineGemm] = {
    "fp32-openvino": lambda a, b, threads: _ov_gemm(a, b, threads, "f32"),
    "bf16-openvino": lambda a, b, threads: _ov_gemm(a, b, threads, "bf16"),
    "int8-openvino": lambda a, b, threads: _ov_gemm(a, b, threads, "f32", quantize=True),
    "fp32-onnxruntime": lambda a, b, threads: _ort_gemm(a, b, threads),
    "int8-onnxruntime": lambda a, b, threads: _ort_gemm(a, b, threads, int8=True),
}


def _numpy_blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        return ", ".join(f"{p['internal_api']} {p.get('version')}, {p['num_threads']} threads" for p in blas)
    except ImportError:
        return "BLAS unknown"


def _ort_int8_matmul(a: np.ndarray, b: np.ndarray) -> tuple[Callable[[], Any], str]:
    """INT8 GEMM through ONNX Runtime's MatMulInteger, for torch builds without torch._int_mm."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["y"])],
        "int8_gemm",
        [helper.make_tensor_value_info(x, TensorProto.INT8, list(a.shape)) for x in ("a", "b")],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [a.shape[0], b.shape[1]])],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"a": a, "b": b}
    return (
        lambda: session.run(None, feeds)[0]
    ), f"onnxruntime {ort.__version__} MatMulInteger (onnx {onnx.__version__})"


def copy_call(library: str, megabytes: int = COPY_MB) -> tuple[Callable[[], Any], dict[str, Any]]:
    """Copy one large float32 array into another: a memory-bandwidth probe."""
    n = megabytes * 2**20 // 4
    src: Any
    dst: Any
    if library == "numpy":
        src, dst = np.ones(n, np.float32), np.zeros(n, np.float32)
        fn = lambda: np.copyto(dst, src)  # noqa: E731
        about = {"library": f"numpy {np.__version__} copyto (one thread)"}
    elif library == "torch":
        import torch

        src, dst = torch.ones(n), torch.zeros(n)
        fn = lambda: dst.copy_(src)  # noqa: E731
        about = {"library": f"torch {torch.__version__} Tensor.copy_ ({torch.get_num_threads()} threads)"}
    else:
        raise ValueError(f"unknown copy library {library!r}")
    fn()  # touch every page once, outside any timing
    # Bytes read plus bytes written; write-allocate traffic, if any, is not counted (a lower bound).
    return fn, {**about, "array_mb": megabytes, "bytes_per_call": 2 * n * 4}


def _probe_variant(workload: ModuleType, fn: Callable[[], Any], about: dict[str, Any]):
    """A variant whose timed call is a machine probe; predictions come from the real eager model."""
    from benchmarks.engines import Variant
    from benchmarks.engines.pytorch import torch_variant

    eager = torch_variant(workload.torch_model(), {})
    note = (
        "the timed call ignores the workload's inputs; quality figures are those of the eager "
        "FP32 model, reported only because every variant must predict"
    )
    return Variant(
        lambda inputs: fn, eager.predict, {**about, "timed": "machine probe", "quality_note": note}
    )


_LIMITS: list[Any] = []


# --8<-- [start:peaks]
def build_gemm(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    # numpy's BLAS loaded before the worker could set its thread variables; keep the limit alive.
    _LIMITS.append(threadpool_limits(threads))
    fn, about = gemm_call(options["kind"], options.get("size", GEMM_SIZE), threads)
    return _probe_variant(workload, fn, {**about, "threads": threads})


def build_copy(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import torch

    torch.set_num_threads(threads)
    fn, about = copy_call(options["library"], options.get("megabytes", COPY_MB))
    return _probe_variant(workload, fn, {**about, "threads": threads})


# --8<-- [end:peaks]


def measure_peaks(
    threads: int | None = None,
    gemm_size: int = GEMM_SIZE,
    copy_mb: int = COPY_MB,
    repeats: int = 5,
    kinds: tuple[str, ...] = ("fp32-torch", "fp32-numpy", "bf16-torch", "int8"),
) -> dict[str, dict[str, Any]]:
    """Peak GEMM GFLOP/s per precision and copy bandwidth in GB/s, outside the experiment runner.

    Each figure is the harness's median over ``repeats`` timed calls after one warm-up call.
    """
    import torch

    from benchmarks.harness import LatencyStats, MeasureSettings, measure_round, warm_up

    threads = threads or usable_cores()
    torch.set_num_threads(threads)
    settings = MeasureSettings(warmup_iters=1, warmup_s=0.0, min_iters=repeats, min_s=0.0, rounds=1)
    peaks: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        fn, about = gemm_call(kind, gemm_size, threads)
        warm_up(fn, settings)
        ms = LatencyStats.from_values(measure_round(fn, settings)).p50
        peaks[kind] = {**about, "p50_ms": ms, "gflop_s": about["flops_per_call"] / ms / 1e6}
    for library in ("numpy", "torch"):
        fn, about = copy_call(library, copy_mb)
        warm_up(fn, settings)
        ms = LatencyStats.from_values(measure_round(fn, settings)).p50
        peaks[f"copy-{library}"] = {**about, "p50_ms": ms, "gb_s": about["bytes_per_call"] / ms / 1e6}
    return peaks


GEMM_VARIANTS = tuple(
    VariantSpec(
        f"gemm-{kind}",
        label,
        label_zh,
        "benchmarks.techniques.roofline:build_gemm",
        {"kind": kind},
        packages,
    )
    for kind, label, label_zh, packages in (
        ("fp32-torch", "FP32 GEMM, torch (MKL)", "FP32 GEMM,torch(MKL)", ()),
        ("fp32-numpy", "FP32 GEMM, numpy (OpenBLAS)", "FP32 GEMM,numpy(OpenBLAS)", ("threadpoolctl",)),
        ("bf16-torch", "BF16 GEMM, torch (oneDNN)", "BF16 GEMM,torch(oneDNN)", ()),
        ("int8", "INT8 GEMM, torch._int_mm", "INT8 GEMM,torch._int_mm", ()),
        ("fp32-openvino", "FP32 GEMM, OpenVINO", "FP32 GEMM,OpenVINO", ("openvino",)),
        (
            "bf16-openvino",
            "GEMM, OpenVINO with inference precision bf16 (FP32 where the CPU lacks BF16)",
            "GEMM,OpenVINO 推理精度 bf16(CPU 不支持 BF16 时为 FP32)",
            ("openvino",),
        ),
        (
            "int8-openvino",
            "INT8 GEMM, OpenVINO (FakeQuantize)",
            "INT8 GEMM,OpenVINO(FakeQuantize)",
            ("openvino",),
        ),
        (
            "fp32-onnxruntime",
            "FP32 GEMM, ONNX Runtime (MLAS)",
            "FP32 GEMM,ONNX Runtime(MLAS)",
            ("onnxruntime", "onnx"),
        ),
        (
            "int8-onnxruntime",
            "INT8 GEMM, ONNX Runtime MatMulInteger (MLAS)",
            "INT8 GEMM,ONNX Runtime MatMulInteger(MLAS)",
            ("onnxruntime", "onnx"),
        ),
    )
)
COPY_VARIANTS = (
    VariantSpec(
        "copy-numpy",
        f"Copy {COPY_MB} MB, numpy (one thread)",
        f"复制 {COPY_MB} MB,numpy(单线程)",
        "benchmarks.techniques.roofline:build_copy",
        {"library": "numpy"},
    ),
    VariantSpec(
        "copy-torch",
        f"Copy {COPY_MB} MB, torch (all threads)",
        f"复制 {COPY_MB} MB,torch(全部线程)",
        "benchmarks.techniques.roofline:build_copy",
        {"library": "torch"},
    ),
)
# The probes ignore their inputs; one point per profile is all they need.
PROBE_GRID: dict[str, tuple[dict[str, int], ...]] = {
    "toy": ({"batch": 1},),
    "default": ({"batch": 1},),
    "full": ({"batch": 1},),
}

# The technique stays "principles": the page's name, stored in every result's configuration.
EXPERIMENTS = [
    Experiment(
        name="roofline/gemm",
        technique="principles",
        workload="digits-cnn",
        variants=GEMM_VARIANTS,
        grids=PROBE_GRID,
    ),
    Experiment(
        name="roofline/bandwidth",
        technique="principles",
        workload="digits-cnn",
        variants=COPY_VARIANTS,
        grids=PROBE_GRID,
    ),
]


def roofline_data(results: dict[str, Any]) -> dict[str, Any]:
    """Ceilings and measured model points from stored results (no torch).

    The recipes' variants are placed by the page (``benchmarks.report.roofline.recipe_points``)."""
    ceilings: dict[str, float] = {}
    bandwidth: dict[str, float] = {}
    if (gemm := results.get("roofline/gemm")) is not None:
        probe = gemm.points[0]["variants"]  # the probes' one point
        for name, record in gemm.variants.items():
            ceilings[name] = record["info"]["flops_per_call"] / probe[name]["latency"]["p50"] / 1e6
    if (copy := results.get("roofline/bandwidth")) is not None:
        probe = copy.points[0]["variants"]
        for name, record in copy.variants.items():
            bandwidth[name] = record["info"]["bytes_per_call"] / probe[name]["latency"]["p50"] / 1e6
    models = []
    for exp in ("threads/minilm", "threads/digits-cnn"):
        result = results.get(exp)
        if result is None:
            continue
        most = max(result.variants, key=lambda v: result.variants[v]["info"]["threads_requested"])
        record = result.variants[most]["info"]
        for entry in result.points:
            params = entry["params"]
            key = shape_key(params)
            flops = record["flops_per_item"][key] * params["batch"]
            traffic = 4 * record["params"] + record["io_bytes_per_item"][key] * params["batch"]
            ms = entry["variants"][most]["latency"]["p50"]
            models.append(
                {
                    "experiment": exp,
                    "workload": result.config["workload"],
                    "params": params,
                    "threads": record["threads_requested"],
                    "flops": flops,
                    "intensity": flops / traffic,
                    "gflop_s": flops / ms / 1e6,
                }
            )
    return {"gflop_s": ceilings, "gb_s": bandwidth, "models": models}
