"""OpenVINO on the CPU: conversion from PyTorch, NNCF INT8, the CPU plugin's settings, and the
precision each layer really ran in.

The converted model keeps every input axis dynamic, so one compiled model serves
every shape (``build``); ``build_static`` instead compiles the model reshaped to
each input shape it meets, with inputs bound to the request once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.engines import Variant
from benchmarks.engines.common import check_parity, converted_model, max_abs_diff, pad_row, shape_label
from benchmarks.engines.pytorch import eager_outputs, torch_inputs

# Layers that hold nearly all the arithmetic; their runtime precision is what matters.
HEAVY_LAYERS = {"Convolution", "GroupConvolution", "FullyConnected", "MatMul", "ScaledDotProductAttention"}
CALIBRATION = {"digits-cnn": 300, "minilm": 200, "resnet50": 32}  # examples NNCF calibrates on
PRECISIONS = ("f32", "default", "int8")


# --8<-- [start:openvino-config]
def compile_config(threads: int, precision: str = "default", latency: bool = False) -> dict[str, Any]:
    """The CPU plugin's settings of every OpenVINO variant: the run's thread count; ``precision``
    "f32" pins the precision hint, ``latency`` asks for the latency performance hint."""
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads}
    if latency:
        config["PERFORMANCE_HINT"] = "LATENCY"
    if precision == "f32":
        config["INFERENCE_PRECISION_HINT"] = "f32"  # otherwise the CPU plugin may choose bf16
    return config


# --8<-- [end:openvino-config]


def fp32_ir(workload: ModuleType, model: Any) -> tuple[Path, dict[str, Any], bool]:
    """The model converted to OpenVINO IR in FP32 (cached): (folder, meta, reused)."""
    import openvino as ov

    def make(folder: Path) -> dict[str, Any]:
        # --8<-- [start:openvino-convert]
        example = torch_inputs(workload.example_inputs())
        start = time.perf_counter()
        ov_model = ov.convert_model(model, example_input=example)
        convert_s = time.perf_counter() - start
        # save_model compresses weights to FP16 unless told not to.
        ov.save_model(ov_model, folder / "model.xml", compress_to_fp16=False)
        # --8<-- [end:openvino-convert]
        return {"convert_s": convert_s, "input_shapes": [str(i.get_partial_shape()) for i in ov_model.inputs]}

    return converted_model("openvino", workload, {}, make, code=(fp32_ir,), packages=("openvino",))


def calibration_items(workload: ModuleType) -> list[dict[str, np.ndarray]]:
    """Calibration inputs that are never evaluation inputs: the digits training split, the MiniLM
    training corpus, and random images drawn with a seed the evaluation does not use."""
    count = CALIBRATION[workload.NAME]
    if workload.NAME == "digits-cnn":
        x_train = workload.dataset()[0][:count]
        return [{"images": x_train[i : i + 1]} for i in range(len(x_train))]
    if workload.NAME == "minilm":
        from benchmarks.workloads.minilm_corpus import train_texts

        texts = train_texts()[:count]
        tokenizer = workload.tokenizer()
        items = []
        for i in range(0, len(texts), 8):  # batches of 8 padded to their longest, like real traffic
            batch = tokenizer(
                texts[i : i + 8],
                padding=True,
                truncation=True,
                max_length=workload.EVAL_MAX_LENGTH,
                return_tensors="np",
            )
            items.append({name: batch[name].astype(np.int64) for name in workload.INPUT_NAMES})
        return items
    if workload.NAME == "resnet50":
        images = workload._images(count, workload.IMAGE_SIZE, seed=5)  # evaluation uses seed 2
        return [{"images": images[i : i + 1]} for i in range(count)]
    raise KeyError(f"no calibration data for {workload.NAME}")


def int8_ir(
    workload: ModuleType, fp32_xml: Path, accuracy_control: bool = False
) -> tuple[Path, dict[str, Any], bool]:
    """The FP32 IR quantised by NNCF after training, on ``calibration_items`` (cached).

    With ``accuracy_control``, NNCF's ``quantize_with_accuracy_control`` ranks the quantised layers
    by their measured effect on a validation metric and returns the most sensitive ones to floating
    point until the metric is within ``AC_MAX_DROP`` of FP32's: the layers kept in higher precision
    are chosen by measurement, not by hand. The validation metric is the mean cosine to the FP32
    model's embeddings on held-out training-corpus sentences (never the evaluation sentences).
    """
    import openvino as ov

    def make(folder: Path) -> dict[str, Any]:
        import nncf

        items = calibration_items(workload)
        # --8<-- [start:nncf]
        fp32_model = ov.Core().read_model(fp32_xml)
        transformer = workload.NAME == "minilm"
        settings: dict[str, Any] = {
            "subset_size": len(items),
            # For transformers NNCF also runs SmoothQuant first (activation outliers moved into the
            # weights), with its default alpha for MatMul.
            "model_type": nncf.ModelType.TRANSFORMER if transformer else None,
        }
        start = time.perf_counter()
        if accuracy_control:
            validation, metric = validation_metric(workload, fp32_xml)
            int8_model = nncf.quantize_with_accuracy_control(
                fp32_model,
                nncf.Dataset(items),
                nncf.Dataset(validation),
                metric,
                max_drop=AC_MAX_DROP,
                **settings,
            )
        else:
            int8_model = nncf.quantize(fp32_model, nncf.Dataset(items), **settings)
        calibrate_s = time.perf_counter() - start
        ov.save_model(int8_model, folder / "model.xml", compress_to_fp16=False)
        # --8<-- [end:nncf]
        meta = {
            "calibrate_s": calibrate_s,
            "calibration_batches": len(items),
            "accuracy_control": accuracy_control,
        }
        if accuracy_control:
            compiled = ov.Core().compile_model(int8_model, "CPU")
            meta["validation_cosine"] = metric(compiled, validation)[0]
            meta["validation_max_drop"] = AC_MAX_DROP
        return meta

    inputs = {
        "fp32": fp32_xml.parent.name,
        "calibration": CALIBRATION[workload.NAME],
        "accuracy_control": accuracy_control,
    }
    code = (int8_ir, calibration_items, validation_metric)
    kind = "openvino-int8-ac" if accuracy_control else "openvino-int8"
    return converted_model(kind, workload, inputs, make, code=code, packages=("openvino", "nncf"))


AC_MAX_DROP = 0.005  # the validation cosine may fall by at most this much below FP32's 1.0
AC_VALIDATION = 96  # held-out training sentences (after the calibration ones)


def validation_metric(workload: ModuleType, fp32_xml: Path) -> tuple[list[Any], Callable[..., Any]]:
    """Validation items and NNCF's validation function: the mean cosine of a model's embeddings to
    the FP32 model's, on training-corpus sentences that neither calibrate nor evaluate."""
    import openvino as ov

    if workload.NAME != "minilm":
        raise ValueError(f"no accuracy-control metric for {workload.NAME}")
    from benchmarks.workloads.minilm_corpus import train_texts

    start = CALIBRATION[workload.NAME]
    texts = train_texts()[start : start + AC_VALIDATION]
    tokenizer = workload.tokenizer()
    batches = [
        tokenizer(
            texts[i : i + 8],
            padding=True,
            truncation=True,
            max_length=workload.EVAL_MAX_LENGTH,
            return_tensors="np",
        )
        for i in range(0, len(texts), 8)
    ]
    items = [{name: b[name].astype(np.int64) for name in workload.INPUT_NAMES} for b in batches]
    reference = ov.Core().compile_model(
        ov.Core().read_model(fp32_xml), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    expected = [np.array(reference(item)[0]) for item in items]
    index = {item["input_ids"].tobytes(): i for i, item in enumerate(items)}

    def metric(compiled: Any, data: Any) -> tuple[float, list[float]]:
        per_item = []
        for item in data:
            got, want = np.array(compiled(item)[0]), expected[index[item["input_ids"].tobytes()]]
            cos = np.sum(got * want, 1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
            per_item.append(float(cos.mean()))
        return float(np.mean(per_item)), per_item

    return items, metric


def runtime_precisions(compiled: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Precisions of the layers OpenVINO really executes: all compute layers, and the heavy ones."""
    every: Counter[str] = Counter()
    heavy: Counter[str] = Counter()
    for op in compiled.get_runtime_model().get_ops():
        rt = op.get_rt_info()
        if "runtimePrecision" not in rt or "layerType" not in rt:
            continue
        layer, precision = rt["layerType"].astype(str), rt["runtimePrecision"].astype(str)
        if layer in {"Const", "Input", "Output"}:
            continue
        every[precision] += 1
        if layer in HEAVY_LAYERS:
            heavy[precision] += 1
    return dict(every.most_common()), dict(heavy.most_common())


def precision_class(heavy: dict[str, int], hint: str = "f32") -> str:
    """fp32, bf16 or int8: the precision most heavy layers ran in (which peak a variant is held to)."""
    if heavy:
        top = max(heavy, key=lambda p: heavy[p])
        return {"i8": "int8", "u8": "int8", "bf16": "bf16", "f32": "fp32"}.get(top, top)
    return {"bf16": "bf16", "f32": "fp32"}.get(hint, hint)


def build(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """OpenVINO on the CPU: ``precision`` "f32" (hint f32), "default" (OpenVINO's choice) or "int8" (NNCF)."""
    import openvino as ov
    import torch

    torch.set_num_threads(threads)
    precision = options.get("precision", "f32")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown OpenVINO precision option {precision!r}")
    model = workload.torch_model()
    costs: dict[str, float] = {}
    fp32_dir, fp32_meta, fp32_reused = fp32_ir(workload, model)
    costs["convert_s"] = fp32_meta["convert_s"]
    xml = fp32_dir / "model.xml"
    record: dict[str, Any] = {"ir_reused_from_cache": fp32_reused}
    if precision == "int8":
        int8_dir, int8_meta, int8_reused = int8_ir(workload, xml)
        costs["calibrate_s"] = int8_meta["calibrate_s"]
        record.update(
            calibration_batches=int8_meta["calibration_batches"], int8_reused_from_cache=int8_reused
        )
        xml = int8_dir / "model.xml"

    # --8<-- [start:openvino-compile]
    core = ov.Core()
    config = compile_config(threads, precision)
    start = time.perf_counter()
    compiled = core.compile_model(core.read_model(xml), "CPU", config)
    costs["compile_s"] = time.perf_counter() - start
    hint = compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
    # --8<-- [end:openvino-compile]

    every, heavy = runtime_precisions(compiled)
    if precision == "f32" and (hint != "f32" or set(heavy) - {"f32"}):
        raise RuntimeError(f"OpenVINO was asked for f32 but runs hint {hint}, heavy layers {heavy}")

    # Parity: strict where the engine computes in FP32; bf16 and int8 are judged by the quality
    # metrics instead, after a shape check here.
    worst = 0.0
    for inputs in workload.parity_inputs():
        worst = max(worst, max_abs_diff(compiled(inputs)[0], eager_outputs(model, inputs), "OpenVINO"))
    strict = precision != "int8" and hint == "f32"
    if strict:
        check_parity(worst, workload.PARITY_ATOL, "OpenVINO")
    del model

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        request = compiled.create_infer_request()
        for name, value in inputs.items():
            request.set_tensor(name, ov.Tensor(np.ascontiguousarray(value)))
        return request.infer

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return np.array(compiled(inputs)[0])

    heavy_text = ", ".join(f"{p}×{n}" for p, n in heavy.items())
    label = {"f32": "f32", "default": hint, "int8": f"int8 (NNCF) + {hint}"}[precision]
    record.update(
        {
            "engine": "openvino",
            "openvino": ov.get_version(),
            "precision": f"{label}; heavy layers {heavy_text}",
            "inference_precision_hint": hint,
            "precision_hint_set": config.get("INFERENCE_PRECISION_HINT", "not set (OpenVINO default)"),
            "runtime_precisions": every,
            "heavy_layer_precisions": heavy,
            "heavy_layers": heavy_text,
            "performance_hint": str(compiled.get_property("PERFORMANCE_HINT")).split(".")[-1],
            "num_streams": str(compiled.get_property("NUM_STREAMS")),
            "intra_op_threads": compiled.get_property("INFERENCE_NUM_THREADS"),
            "input_shapes": fp32_meta["input_shapes"],
            "shapes": "dynamic: the converted model keeps every input axis dynamic; no per-point reshape",
            "parity_max_abs_diff": worst,
            "parity_checked": "strict" if strict else "shape only (quality metrics judge bf16/int8)",
            "parity_tolerance": workload.PARITY_ATOL,
        }
    )
    return Variant(bind, predict, record, costs)


def build_static(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """OpenVINO compiled for each input shape it meets (the model reshaped to static dimensions),
    latency hint, inputs bound to the request once; at the precision it picks for this CPU, or
    FP32 with ``options["precision"] = "f32"``."""
    import openvino as ov
    import torch

    torch.set_num_threads(threads)
    model = workload.torch_model()
    costs: dict[str, float] = {}
    ir_dir, meta, reused = fp32_ir(workload, model)
    costs["convert_s"] = meta["convert_s"]
    del model
    precision = options.get("precision", "default")
    record: dict[str, Any] = {}
    if precision in ("int8", "int8-ac"):
        # INT8 where NNCF put its quantisers; the layers left in floating point run at the CPU
        # plugin's default precision (BF16 where the CPU has it, FP32 where it does not).
        ir_dir, int8_meta, int8_reused = int8_ir(workload, ir_dir / "model.xml", precision == "int8-ac")
        costs["calibrate_s"] = int8_meta["calibrate_s"]
        record.update(
            calibration_batches=int8_meta["calibration_batches"],
            int8_reused_from_cache=int8_reused,
            nncf_accuracy_control=int8_meta.get("accuracy_control", False),
            **{k: int8_meta[k] for k in ("validation_cosine", "validation_max_drop") if k in int8_meta},
        )
        precision = "default"
    core = ov.Core()
    config = compile_config(threads, precision, latency=True)
    compiled: dict[tuple, Any] = {}
    record |= {
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
            label = shape_label(inputs)
            costs[f"compile_s[{label}]"] = time.perf_counter() - start
            record["shapes_prepared"].append(label)
        return compiled[key]

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        request = program(inputs).create_infer_request()
        for name, value in inputs.items():
            request.set_tensor(name, ov.Tensor(np.ascontiguousarray(value), shared_memory=True))
        request.buffers = inputs  # shared memory must outlive the request
        return request.infer

    # --8<-- [end:ov-static]

    seq_len = workload.REFERENCE_POINT.get("seq_len")

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        """One example at a time, padded to the reference length: how a static-shape service runs."""
        rows = []
        for i in range(len(next(iter(inputs.values())))):
            row = pad_row({k: v[i : i + 1] for k, v in inputs.items()}, seq_len)
            rows.append(np.array(program(row)(row)[0]))
        return np.concatenate(rows)

    reference_inputs = workload.timing_inputs(workload.REFERENCE_POINT)
    first = program(reference_inputs)
    every, heavy = runtime_precisions(first)
    hint = first.get_property("INFERENCE_PRECISION_HINT").to_string()
    record.update(
        inference_precision_hint=hint,
        heavy_layer_precisions=heavy,
        runtime_precisions=every,
        precision=f"int8 (NNCF) + {hint}" if "calibrate_s" in costs else hint,
        compute_precision=precision_class(heavy, hint),
        threads=threads,
    )
    return Variant(bind, predict, record, costs)
