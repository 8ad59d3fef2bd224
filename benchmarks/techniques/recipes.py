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

The recipe is not chosen by hand: ``select`` takes the fastest candidate that
meets the workload's quality bar (the rule of ``benchmarks.summary``), the
fastest peer that meets the same bar, and the ratio of the two from their
paired rounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.harness import PairedSpeedup, interval_label
from benchmarks.results import ExperimentResult
from benchmarks.techniques.inference_engines import LITERT, OPENVINO_INT8, _runtime_precisions
from benchmarks.techniques.onnxruntime import ORT_PACKAGES, PYTORCH_EAGER

if TYPE_CHECKING:
    from benchmarks.engines import Variant

MODULE = "benchmarks.techniques.recipes"
PEER, CANDIDATE = "peer", "recipe candidate"
# How much faster than the fastest peer within the bar the recipe should be (a benchmark target,
# set for MiniLM at batch 1 and 128 tokens; other workloads report the ratio without one).
TARGETS = {"minilm": 1.25}
ST_PACKAGES = ("sentence-transformers", "optimum", "optimum-onnx", "optimum-intel", "transformers")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


# ---- sentence-transformers and Optimum (inside a worker) ------------------------------------


def model_copy(workload: ModuleType, workdir: Path) -> Path:
    """The verified model folder, linked file by file into the worker's own folder: the libraries
    write their exports next to the weights, never into the installed package."""
    source = workload.model_dir()
    workload.verify_model(source)
    target = workdir / "model"
    target.mkdir()
    for item in source.iterdir():
        (target / item.name).symlink_to(item)
    return target


def _ort_kwargs(threads: int, file_name: str | None = None) -> dict[str, Any]:
    from benchmarks.engines import ort_session_options

    session_options, _ = ort_session_options(threads, engine_defaults=True)  # with the run's thread count
    kwargs: dict[str, Any] = {"provider": "CPUExecutionProvider", "session_options": session_options}
    if file_name:
        kwargs["file_name"] = file_name
    return kwargs


def _ov_kwargs(threads: int, file_name: str | None = None) -> dict[str, Any]:
    # Optimum adds its own default, PERFORMANCE_HINT=LATENCY, to whatever is given here.
    kwargs: dict[str, Any] = {"ov_config": {"INFERENCE_NUM_THREADS": threads}}
    if file_name:
        kwargs["file_name"] = file_name
    return kwargs


BACKEND_KWARGS = {"onnx": _ort_kwargs, "openvino": _ov_kwargs}
OV_QINT8_FILE = "openvino/openvino_model_qint8_quantized.xml"
OV_CALIBRATION_TEXTS = 300  # sentence-transformers' own default takes 300 calibration samples


# --8<-- [start:ov-qint8]
def _quantize_openvino(model: Any, path: Path) -> dict[str, Any]:
    """OpenVINO INT8 through Optimum's OVQuantizer, calibrated on the repository's training corpus.

    sentence-transformers' ``export_static_quantized_openvino_model`` does the same but downloads
    its calibration set (GLUE SST-2) from the Hugging Face Hub, which this build never does.
    """
    import nncf
    from optimum.intel import OVConfig, OVQuantizationConfig, OVQuantizer

    from benchmarks.workloads.minilm_corpus import train_texts

    texts = train_texts()[:OV_CALIBRATION_TEXTS]
    items = [
        dict(model.tokenizer(text, truncation=True, max_length=128, return_tensors="np")) for text in texts
    ]
    quantizer = OVQuantizer.from_pretrained(model.transformers_model)
    scratch = path / "quantized"
    quantizer.quantize(
        calibration_dataset=nncf.Dataset(items),
        save_directory=str(scratch),
        ov_config=OVConfig(quantization_config=OVQuantizationConfig(num_samples=len(items))),
    )
    # Where sentence-transformers' own export puts it, under the name it gives it.
    xml = next(scratch.rglob("openvino_model.xml"))
    target = path / OV_QINT8_FILE
    target.parent.mkdir(exist_ok=True)
    xml.replace(target)
    xml.with_suffix(".bin").replace(target.with_suffix(".bin"))
    return {"calibration_texts": len(items), "calibration_source": "benchmarks/workloads/minilm_corpus.py"}


# --8<-- [end:ov-qint8]


def build_sentence_transformers(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """A sentence-transformers model on one backend, as its documentation shows it; the timed
    call is the model's forward pass on already tokenised inputs, like every other variant's."""
    import torch
    from sentence_transformers import SentenceTransformer

    from benchmarks.engines import Variant
    from benchmarks.techniques.inference_engines import _eager

    torch.set_num_threads(threads)
    backend, export = options["backend"], options.get("export")
    path = model_copy(workload, workdir)
    costs: dict[str, float] = {}

    # --8<-- [start:st-backends]
    def load(file_name: str | None = None) -> Any:
        kwargs = {} if backend == "torch" else BACKEND_KWARGS[backend](threads, file_name)
        return SentenceTransformer(
            str(path), device="cpu", backend=backend, model_kwargs=kwargs, local_files_only=True
        )

    start = time.perf_counter()
    model = load()
    costs["load_and_export_s" if backend != "torch" else "load_s"] = time.perf_counter() - start
    record: dict[str, Any] = {}
    file_name = None
    if export == "O3":
        from sentence_transformers import export_optimized_onnx_model

        start = time.perf_counter()
        export_optimized_onnx_model(model, "O3", str(path))
        costs["optimize_s"] = time.perf_counter() - start
        file_name = "onnx/model_O3.onnx"
    elif export == "qint8":
        from sentence_transformers import export_dynamic_quantized_onnx_model

        from benchmarks.techniques.quantization import _vnni

        config = "avx512_vnni" if _vnni() else "avx2"  # the choices ST offers for x86
        start = time.perf_counter()
        export_dynamic_quantized_onnx_model(model, config, str(path))
        costs["quantize_s"] = time.perf_counter() - start
        file_name = f"onnx/model_qint8_{config}.onnx"
        record["quantization_config"] = config
    elif export == "ov-qint8":
        start = time.perf_counter()
        record.update(_quantize_openvino(model, path))
        costs["quantize_s"] = time.perf_counter() - start
        file_name = OV_QINT8_FILE
    elif export is not None:
        raise ValueError(f"unknown export {export!r}")
    if file_name:
        start = time.perf_counter()
        model = load(file_name)
        costs["load_s"] = time.perf_counter() - start
    # --8<-- [end:st-backends]
    model.eval()

    def features(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
        found = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in inputs.items()}
        found.setdefault("token_type_ids", torch.zeros_like(found["input_ids"]))
        return found

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        prepared = features(inputs)

        def call() -> Any:
            with torch.inference_mode():
                return model(dict(prepared))["sentence_embedding"]  # forward adds keys to its dict

        return call

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return bind(inputs)().float().numpy()

    reference = workload.torch_model()
    worst = max(
        float(np.max(np.abs(predict(inputs) - _eager(reference, inputs))))
        for inputs in workload.parity_inputs()
    )
    del reference
    inner = model.transformers_model if backend != "torch" else None
    record.update(
        {
            "engine": f"sentence-transformers ({backend})",
            "backend": backend,
            "file_name": file_name
            or {"torch": "model.safetensors", "onnx": "exported on load", "openvino": "exported on load"}[
                backend
            ],
            "sentence_transformers": _version("sentence-transformers"),
            "optimum": _version("optimum"),
            "parity_max_abs_diff": worst,
            "threads": threads,
        }
    )
    if backend == "torch":
        record["precision"] = "fp32"
        record["compute_precision"] = "fp32"
    elif backend == "onnx":
        record["optimum_onnx"] = _version("optimum-onnx")
        record["precision"] = "int8 weights, dynamic int8 activations" if export == "qint8" else "fp32"
        record["compute_precision"] = "int8" if export == "qint8" else "fp32"
        record["providers"] = inner.providers if hasattr(inner, "providers") else "CPUExecutionProvider"
    else:
        record["optimum_intel"] = _version("optimum-intel")
        compiled = (
            inner.request.get_compiled_model()
            if hasattr(inner.request, "get_compiled_model")
            else inner.request
        )
        _, heavy = _runtime_precisions(compiled)
        hint = compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
        record.update(
            inference_precision_hint=hint,
            heavy_layer_precisions=heavy,
            ov_config={k: str(v) for k, v in inner.ov_config.items()},
            precision=("int8 (NNCF) + " if export == "ov-qint8" else "") + hint,
            compute_precision=_precision_class(heavy, hint),
        )
    return Variant(bind, predict, record, costs)


def _precision_class(heavy: dict[str, int], hint: str = "f32") -> str:
    """fp32, bf16 or int8: the precision most heavy layers ran in (which peak a variant is held to)."""
    if heavy:
        top = max(heavy, key=lambda p: heavy[p])
        return {"i8": "int8", "u8": "int8", "bf16": "bf16", "f32": "fp32"}.get(top, top)
    return {"bf16": "bf16", "f32": "fp32"}.get(hint, hint)


# ---- the recipe candidates that are this site's own (inside a worker) -----------------------


def build_openvino_static(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """OpenVINO compiled for each input shape it meets (the model reshaped to static dimensions),
    latency hint, inputs bound to the request once; at the precision it picks for this CPU, or
    FP32 with ``options["precision"] = "f32"``."""
    import openvino as ov
    import torch

    from benchmarks.engines import Variant
    from benchmarks.techniques.inference_engines import _openvino_fp32_ir, _pad_row, _shape_label

    torch.set_num_threads(threads)
    model = workload.torch_model()
    costs: dict[str, float] = {}
    ir_dir, meta, reused = _openvino_fp32_ir(workload, model)
    costs["convert_s"] = meta["convert_s"]
    del model
    core = ov.Core()
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if options.get("precision") == "f32":
        config["INFERENCE_PRECISION_HINT"] = "f32"  # otherwise the CPU plugin may choose bf16
    compiled: dict[tuple, Any] = {}
    record: dict[str, Any] = {
        "engine": "openvino",
        "openvino": ov.get_version(),
        "ir_reused_from_cache": reused,
        "shapes": "static: one compiled model per input shape",
        "ov_config": {k: str(v) for k, v in config.items()},
        "shapes_prepared": [],
    }

    # --8<-- [start:ov-static]
    def program(inputs: dict[str, np.ndarray]) -> Any:
        key = tuple((k, v.shape) for k, v in inputs.items())
        if key not in compiled:
            ir = core.read_model(ir_dir / "model.xml")
            ir.reshape({name: ov.PartialShape(list(value.shape)) for name, value in inputs.items()})
            start = time.perf_counter()
            compiled[key] = core.compile_model(ir, "CPU", config)
            label = _shape_label(inputs)
            costs[f"compile_s[{label}]"] = time.perf_counter() - start
            record["shapes_prepared"].append(label)
        return compiled[key]

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        request = program(inputs).create_infer_request()
        for name, value in inputs.items():
            request.set_tensor(name, ov.Tensor(np.ascontiguousarray(value), shared_memory=True))
        request.buffers = inputs  # type: ignore[attr-defined]  # shared memory must outlive the request
        return request.infer

    # --8<-- [end:ov-static]

    seq_len = workload.REFERENCE_POINT.get("seq_len")

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        """One example at a time, padded to the reference length: how a static-shape service runs."""
        rows = []
        for i in range(len(next(iter(inputs.values())))):
            row = _pad_row({k: v[i : i + 1] for k, v in inputs.items()}, seq_len)
            rows.append(np.array(program(row)(row)[0]))
        return np.concatenate(rows)

    reference_inputs = workload.timing_inputs(workload.REFERENCE_POINT)
    first = program(reference_inputs)
    every, heavy = _runtime_precisions(first)
    hint = first.get_property("INFERENCE_PRECISION_HINT").to_string()
    record.update(
        inference_precision_hint=hint,
        heavy_layer_precisions=heavy,
        runtime_precisions=every,
        precision=hint,
        compute_precision=_precision_class(heavy, hint),
        threads=threads,
    )
    return Variant(bind, predict, record, costs)


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
    from benchmarks.engines import build_pytorch_eager
    from benchmarks.techniques.principles import _arithmetic

    variant = build_pytorch_eager(workload, options, threads, workdir)
    grids = next(e.grids for e in EXPERIMENTS if e.workload == workload.NAME)
    variant.info.update(_arithmetic(workload.torch_model(), workload, grids))
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
LITERT_PEER = VariantSpec(
    LITERT.name, LITERT.label, LITERT.label_zh, LITERT.builder, {"role": PEER}, LITERT.packages
)
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
    {"role": CANDIDATE, "bound": True},
    LITERT.packages,
)
LITERT_BOUND_1T = VariantSpec(
    "recipe-litert-bound-1t",
    "LiteRT (XNNPACK), inputs bound once, one thread",
    "LiteRT(XNNPACK),输入只绑定一次、单线程",
    LITERT.builder,
    {"role": CANDIDATE, "bound": True, "threads": 1},
    LITERT.packages,
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
        variants=(BASELINE, *MINILM_PEERS, ORT_DEFAULTS, OPENVINO_DEFAULTS, OPENVINO_STATIC),
        grids={
            "toy": ({"batch": 1, "seq_len": 16},),
            "default": ({"batch": 1, "seq_len": 128},),
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
            LITERT_BOUND,
            LITERT_BOUND_1T,
        ),
        grids={"toy": ({"batch": 1},), "default": ({"batch": 1},), "full": ({"batch": 1}, {"batch": 256})},
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
        ),
        grids={"toy": ({"batch": 1},), "default": ({"batch": 1},), "full": ({"batch": 1}, {"batch": 8})},
    ),
]
RECIPE_EXPERIMENTS = tuple(e.name for e in EXPERIMENTS)


# ---- selection (reads stored results only) ----------------------------------------------------


def role(result: ExperimentResult, variant: str) -> str | None:
    for spec in result.config["variants"]:
        if spec["name"] == variant:
            return spec["options"].get("role")
    raise KeyError(variant)


@dataclass(frozen=True)
class Entry:
    variant: str
    role: str
    p50_ms: float
    p90_ms: float
    throughput_per_s: float
    speedup: float
    meets_bar: bool
    quality: dict[str, Any]
    one_time_s: float
    round_medians: list[float]


@dataclass(frozen=True)
class Selection:
    params: dict[str, int]
    entries: list[Entry]
    recipe: Entry | None
    peer: Entry | None
    ratio: PairedSpeedup | None  # the recipe over the fastest peer, from their paired rounds


def entries(result: ExperimentResult, params: dict[str, int]) -> list[Entry]:
    from benchmarks import workloads

    module = workloads.get(result.config["workload"])
    measured = next(p for p in result.points if p["params"] == params)
    base_quality = result.variants[PYTORCH_EAGER.name].get("quality", {})
    found = []
    for name, row in measured["variants"].items():
        if name == PYTORCH_EAGER.name:
            continue
        quality = result.variants[name].get("quality", {})
        costs = result.one_time_costs.get(name, {})
        found.append(
            Entry(
                variant=name,
                role=role(result, name) or PEER,
                p50_ms=row["latency"]["p50"],
                p90_ms=row["latency"]["p90"],
                throughput_per_s=row["throughput_per_s"],
                speedup=row["speedup"]["median"],
                meets_bar=bool(quality) and module.meets_bar(quality, base_quality),
                quality=quality,
                one_time_s=float(sum(v for v in costs.values() if isinstance(v, int | float))),
                round_medians=row["round_medians"],
            )
        )
    return found


# --8<-- [start:select]
def select(result: ExperimentResult, params: dict[str, int] | None = None) -> Selection:
    """The fastest candidate within the bar against the fastest peer within the bar.

    "Fastest" is the largest paired speedup over PyTorch eager FP32 (as everywhere on the
    site); the ratio of recipe to peer is then the median of their per-round ratios.
    """
    from benchmarks import workloads

    if params is None:  # the reference point, or the first one where the grid lacks it (toy)
        measured = [p["params"] for p in result.points]
        reference = workloads.get(result.config["workload"]).REFERENCE_POINT
        params = reference if reference in measured else measured[0]
    found = entries(result, params)

    def fastest(kind: str) -> Entry | None:
        pool = [e for e in found if e.role == kind and e.meets_bar]
        return max(pool, key=lambda e: e.speedup, default=None)

    recipe, peer = fastest(CANDIDATE), fastest(PEER)
    ratio = None
    if recipe and peer:
        ratio = PairedSpeedup.from_rounds(
            [[m] for m in peer.round_medians], [[m] for m in recipe.round_medians]
        )
    return Selection(params, found, recipe, peer, ratio)


# --8<-- [end:select]


# ---- the page (reads stored results only) -------------------------------------------------------

PEAK_VARIANTS = {
    "fp32": ("gemm-fp32-torch", "gemm-fp32-numpy"),
    "bf16": ("gemm-bf16-torch",),
    "int8": ("gemm-int8",),
}


def compute_precision(info: dict[str, Any]) -> str:
    """What a variant's heavy layers computed in: its own record, else OpenVINO's runtime report."""
    if "compute_precision" in info:
        return info["compute_precision"]
    if info.get("heavy_layer_precisions"):
        return _precision_class(info["heavy_layer_precisions"])
    return "int8" if "int8" in str(info.get("precision", "")) else "fp32"


def peaks(gemm: ExperimentResult | None) -> dict[str, float]:
    """This machine's measured matrix-multiply peak per precision, GFLOP/s (roofline/gemm)."""
    if gemm is None:
        return {}
    params = gemm.points[0]["params"]
    measured = {}
    for name, record in gemm.variants.items():
        entry = next(p for p in gemm.points if p["params"] == params)["variants"][name]
        measured[name] = record["info"]["flops_per_call"] / entry["latency"]["p50"] / 1e6
    return {
        precision: max(measured[n] for n in names if n in measured)
        for precision, names in PEAK_VARIANTS.items()
        if any(n in measured for n in names)
    }


def achieved(result: ExperimentResult, entry: Entry, params: dict[str, int]) -> float | None:
    """GFLOP/s a variant achieved: the FP32 model's FLOPs at this shape over its p50 latency."""
    from benchmarks.techniques.principles import _shape_key

    flops = result.variants[PYTORCH_EAGER.name]["info"].get("flops_per_item", {}).get(_shape_key(params))
    if flops is None:
        return None
    return flops * params.get("batch", 1) / entry.p50_ms / 1e6


TEXT = {
    "en": {
        "variant": "variant",
        "role": "role",
        PEER: "peer",
        CANDIDATE: "recipe candidate",
        "p50": "p50 (ms)",
        "p90": "p90 (ms)",
        "throughput": "items/s",
        "speedup": "vs PyTorch eager",
        "quality": "quality",
        "bar": "meets bar",
        "one_time": "one-time cost (s)",
        "precision": "computes in",
        "peak": "of the peak at that precision",
        "yes": "yes",
        "no": "no",
        "recipe": "**Recipe, chosen by the rule:** {label} — p50 {p50:.3g} ms, {speedup:.2f}× PyTorch eager.",
        "no_recipe": "**No recipe candidate meets the quality bar in this build.**",
        "peer_line": "**Fastest peer within the same bar:** {label} — p50 {p50:.3g} ms.",
        "no_peer": "**No peer meets the quality bar in this build.**",
        "ratio": (
            "**Recipe over fastest peer: {median:.2f}× [{low:.2f}, {high:.2f}]** (median of {rounds} paired "
            "rounds, {level} order-statistic interval)."
        ),
        "target": " Target {target:.2f}×: **{outcome}**.",
        "met": "met",
        "not_met": "not met",
        "overhead": (
            "Through sentence-transformers (Optimum's export, its wrapper and pooling), {framework} takes "
            "{framework_ms:.3g} ms; the same engine at the same precision, called directly on this site's "
            "export ({engine}), takes {engine_ms:.3g} ms ({diff:+.3g} ms)."
        ),
        "limit": (
            "The recipe reaches {achieved:.1f} GFLOP/s, {fraction:.0%} of this machine's measured "
            "{precision} matrix-multiply peak ({peak:.0f} GFLOP/s)."
        ),
        "axis": "p50 latency at {point} (ms); ● meets the quality bar, ○ does not",
        "legend": "★ the recipe · ◆ the fastest peer within the bar",
    },
    "zh": {
        "variant": "变体",
        "role": "角色",
        PEER: "对照(同类方案)",
        CANDIDATE: "配方候选",
        "p50": "p50(毫秒)",
        "p90": "p90(毫秒)",
        "throughput": "条/秒",
        "speedup": "相对 PyTorch eager",
        "quality": "质量",
        "bar": "达到质量门槛",
        "one_time": "一次性开销(秒)",
        "precision": "计算精度",
        "peak": "占该精度峰值",
        "yes": "是",
        "no": "否",
        "recipe": "**按规则选出的配方:**{label} —— p50 {p50:.3g} 毫秒,为 PyTorch eager 的 {speedup:.2f} 倍。",
        "no_recipe": "**本次构建中没有配方候选达到质量门槛。**",
        "peer_line": "**达到同一质量门槛的最快对照:**{label} —— p50 {p50:.3g} 毫秒。",
        "no_peer": "**本次构建中没有对照达到质量门槛。**",
        "ratio": (
            "**配方相对最快对照:{median:.2f} 倍 [{low:.2f}, {high:.2f}]**({rounds} 组成对轮次的中位数,"
            "{level} 顺序统计量区间)。"
        ),
        "target": "目标 {target:.2f} 倍:**{outcome}**。",
        "met": "达到",
        "not_met": "未达到",
        "overhead": (
            "经 sentence-transformers 调用(Optimum 的导出、其封装与池化),"
            "{framework} 需 {framework_ms:.3g} 毫秒;同一引擎、同一精度,"
            "直接调用本站导出的模型({engine})需 {engine_ms:.3g} 毫秒(差 {diff:+.3g} 毫秒)。"
        ),
        "limit": (
            "配方达到 {achieved:.1f} GFLOP/s,"
            "为本机实测 {precision} 矩阵乘峰值({peak:.0f} GFLOP/s)的 {fraction:.0%}。"
        ),
        "axis": "{point} 时的 p50 延迟(毫秒);● 达到质量门槛,○ 未达到",
        "legend": "★ 配方 · ◆ 达到质量门槛的最快对照",
    },
}

# A sentence-transformers backend and the bare engine call it wraps, at the same precision.
FRAMEWORK_PAIRS = (("st-openvino", "openvino-defaults"), ("st-onnx", "onnxruntime-defaults"))


def labels(result: ExperimentResult, lang: str) -> dict[str, str]:
    """Each variant's label, escaped: it is read from the results file."""
    from benchmarks.report import _labels  # one place for a variant's label in each language

    return _labels(result, lang)


def table_rows(
    result: ExperimentResult, lang: str, peak: dict[str, float], quality_text: Callable[[dict[str, Any]], str]
) -> list[dict[str, str]]:
    from benchmarks.report import md_text  # strings from the results file show as text

    text, names = TEXT[lang], labels(result, lang)
    chosen = select(result)
    rows = []
    for e in sorted(chosen.entries, key=lambda e: e.p50_ms):
        precision = compute_precision(result.variants[e.variant]["info"])
        gflop_s = achieved(result, e, chosen.params)
        fraction = f"{gflop_s / peak[precision]:.1%}" if gflop_s and precision in peak else "-"
        mark = " ★" if chosen.recipe and e.variant == chosen.recipe.variant else ""
        mark += " ◆" if chosen.peer and e.variant == chosen.peer.variant else ""
        rows.append(
            {
                text["variant"]: names[e.variant] + mark,
                text["role"]: text[e.role],
                text["p50"]: f"{e.p50_ms:.3g}",
                text["p90"]: f"{e.p90_ms:.3g}",
                text["throughput"]: f"{e.throughput_per_s:,.0f}",
                text["speedup"]: f"{e.speedup:.2f}×",
                text["quality"]: quality_text(e.quality),
                text["bar"]: text["yes"] if e.meets_bar else text["no"],
                text["one_time"]: f"{e.one_time_s:.1f}",
                text["precision"]: md_text(precision),
                text["peak"]: fraction,
            }
        )
    return rows


def summary_lines(result: ExperimentResult, lang: str, peak: dict[str, float]) -> list[str]:
    from benchmarks.report import md_text  # strings from the results file show as text

    text, names = TEXT[lang], labels(result, lang)
    chosen = select(result)
    lines = []
    recipe, peer, ratio = chosen.recipe, chosen.peer, chosen.ratio
    if recipe:
        lines.append(
            text["recipe"].format(label=names[recipe.variant], p50=recipe.p50_ms, speedup=recipe.speedup)
        )
    else:
        lines.append(text["no_recipe"])
    lines.append(
        text["peer_line"].format(label=names[peer.variant], p50=peer.p50_ms) if peer else text["no_peer"]
    )
    target = TARGETS.get(result.config["workload"])
    if ratio:
        line = text["ratio"].format(
            median=ratio.median,
            low=ratio.ci_low,
            high=ratio.ci_high,
            rounds=ratio.rounds,
            level=interval_label(ratio.confidence),
        )
        if target:
            outcome = text["met"] if ratio.median >= target else text["not_met"]
            line += text["target"].format(target=target, outcome=outcome)
        lines.append(line)
    by_name = {e.variant: e for e in chosen.entries}
    for framework, engine in FRAMEWORK_PAIRS:
        if framework in by_name and engine in by_name:
            f, g = by_name[framework], by_name[engine]
            lines.append(
                text["overhead"].format(
                    framework=names[framework],
                    framework_ms=f.p50_ms,
                    engine=names[engine],
                    engine_ms=g.p50_ms,
                    diff=f.p50_ms - g.p50_ms,
                )
            )
    if recipe:
        precision = compute_precision(result.variants[recipe.variant]["info"])
        gflop_s = achieved(result, recipe, chosen.params)
        if gflop_s and precision in peak:
            lines.append(
                text["limit"].format(
                    achieved=gflop_s,
                    fraction=gflop_s / peak[precision],
                    precision=md_text(precision),
                    peak=peak[precision],
                )
            )
    return lines


def figure(result: ExperimentResult, lang: str, point_label: str):
    """p50 latency of every variant at the reference point, peers and candidates apart."""
    import plotly.graph_objects as go

    text, names = TEXT[lang], labels(result, lang)
    chosen = select(result)
    fig = go.Figure()
    for kind in (PEER, CANDIDATE):
        group = sorted((e for e in chosen.entries if e.role == kind), key=lambda e: e.p50_ms)
        fig.add_scatter(
            name=text[kind],
            x=[e.p50_ms for e in group],
            y=[names[e.variant] for e in group],
            mode="markers",
            marker={
                "size": 12,
                "symbol": ["circle" if e.meets_bar else "circle-open" for e in group],
                "line": {"width": 2},
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [e.p90_ms - e.p50_ms for e in group],
                "arrayminus": [0] * len(group),
            },
            hovertemplate="%{y}<br>p50 %{x:.3g} ms<extra></extra>",
        )
    fig.update_xaxes(title=text["axis"].format(point=point_label), type="log")
    fig.update_yaxes(automargin=True)
    return fig
