"""sentence-transformers and Hugging Face Optimum, run as their documentation shows: the peers a
reader would pick without this site (its own backends: PyTorch, ONNX, ONNX optimised at Optimum's
O3 level, ONNX INT8 dynamic quantization, OpenVINO, OpenVINO INT8 static quantization)."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.engines import Variant
from benchmarks.engines.onnxruntime import ort_session_options
from benchmarks.engines.openvino import compile_config, precision_class, runtime_precisions
from benchmarks.engines.pytorch import cpu_vnni, eager_outputs

ST_PACKAGES = ("sentence-transformers", "optimum", "optimum-onnx", "optimum-intel", "transformers")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


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
    session_options, _ = ort_session_options(threads, engine_defaults=True)  # with the run's thread count
    kwargs: dict[str, Any] = {"provider": "CPUExecutionProvider", "session_options": session_options}
    if file_name:
        kwargs["file_name"] = file_name
    return kwargs


def _ov_kwargs(threads: int, file_name: str | None = None) -> dict[str, Any]:
    # Optimum adds its own default, PERFORMANCE_HINT=LATENCY, to whatever is given here.
    kwargs: dict[str, Any] = {"ov_config": compile_config(threads)}
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


def build(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """A sentence-transformers model on one backend, as its documentation shows it; the timed
    call is the model's forward pass on already tokenised inputs, like every other variant's."""
    import torch
    from sentence_transformers import SentenceTransformer

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

        config = "avx512_vnni" if cpu_vnni() else "avx2"  # the choices ST offers for x86
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
        float(np.max(np.abs(predict(inputs) - eager_outputs(reference, inputs))))
        for inputs in workload.parity_inputs()
    )
    del reference
    inner: Any = model.transformers_model if backend != "torch" else None
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
        _, heavy = runtime_precisions(compiled)
        hint = compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
        record.update(
            inference_precision_hint=hint,
            heavy_layer_precisions=heavy,
            ov_config={k: str(v) for k, v in inner.ov_config.items()},
            precision=("int8 (NNCF) + " if export == "ov-qint8" else "") + hint,
            compute_precision=precision_class(heavy, hint),
        )
    return Variant(bind, predict, record, costs)
