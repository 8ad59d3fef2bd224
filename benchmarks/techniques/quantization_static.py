"""Static INT8 (QDQ) with ONNX Runtime: activation ranges fixed beforehand by calibration on data
that is never the evaluation set, and QuantizeLinear/DequantizeLinear pairs that ONNX Runtime
fuses into integer kernels."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.techniques.quantization_graphs import file_mb, op_counts, quiet_preprocess_advice

# Calibration sizes: enough to see the activation ranges, small enough for the time budget.
CALIBRATION_COUNT = {"digits-cnn": 200, "minilm": 32, "resnet50": 16}
CALIBRATION_BATCH = {"digits-cnn": 50, "minilm": 8, "resnet50": 4}
MINILM_CALIBRATION_SEQ_LEN = 128  # padded like the timed inputs
# resnet50.py draws its timing images with seed 1, evaluation images with 2 and
# BatchNorm statistics with 3; calibration uses its own.
RESNET_CALIBRATION_SEED = 11


def _calibration_reader(inputs: list[dict[str, np.ndarray]]):
    """A CalibrationDataReader over fixed inputs that notes when calibration inference starts and ends."""
    from onnxruntime.quantization import CalibrationDataReader

    class ListReader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items: Iterator[dict[str, np.ndarray]] = iter(inputs)
            self.first_call: float | None = None
            self.exhausted: float | None = None

        def get_next(self) -> dict[str, np.ndarray] | None:
            now = time.perf_counter()
            if self.first_call is None:
                self.first_call = now
            item = next(self.items, None)
            if item is None and self.exhausted is None:
                self.exhausted = now
            return item

    return ListReader()


def linear_matmuls(path: Path) -> list[str]:
    """MatMul nodes with a constant weight: the Linear layers (not attention's activation products)."""
    import onnx

    graph = onnx.load(str(path)).graph
    constants = {t.name for t in graph.initializer}
    return [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] in constants]


def matmuls_after_gelu(path: Path, depth: int = 3) -> list[str]:
    """MatMul nodes fed by a GELU (a Gelu node, or the Erf of its decomposed form, at most ``depth``
    producers back): a transformer's FFN output. The TorchScript exporter writes GELU as Erf and
    arithmetic; torch.export at opset 20 writes a Gelu node; either export may be the one kept.

    GELU outputs carry a few very large values; one static per-tensor range for them
    leaves the many small values with almost no resolution.
    """
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    producer = {out: node for node in graph.node for out in node.output}

    def from_erf(tensor: str, left: int) -> bool:
        node = producer.get(tensor)
        if node is None:
            return False
        return node.op_type in ("Erf", "Gelu") or (
            left > 0 and any(from_erf(t, left - 1) for t in node.input)
        )

    return [n.name for n in graph.node if n.op_type == "MatMul" and from_erf(n.input[0], depth)]


def _has_batchnorm(path: Path) -> bool:
    import onnx

    return any(n.op_type == "BatchNormalization" for n in onnx.load(str(path)).graph.node)


# --8<-- [start:static]
def quantize_onnx_static(
    fp32_path: Path,
    int8_path: Path,
    calibration_inputs: list[dict[str, np.ndarray]],
    per_channel: bool = True,
    scope: str = "all",
) -> dict[str, Any]:
    """QDQ INT8 with activation ranges from MinMax calibration over ``calibration_inputs``.

    ``scope`` "all": every operator ONNX Runtime can quantise (convolutional nets);
    "linear-except-gelu": the Linear layers, except those fed by a GELU (transformers).
    uint8 activations with int8 weights and no range reduction: ONNX Runtime's advice
    for x86 CPUs with VNNI (``reduce_range=True`` would suit CPUs without it).
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    quiet_preprocess_advice()
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    start = time.perf_counter()
    source = fp32_path
    # Fold BatchNorm into the convolutions first, where the exporter has not already done so.
    if _has_batchnorm(fp32_path):
        source = int8_path.with_name(f"{int8_path.stem}.pre.onnx")
        quant_pre_process(str(fp32_path), str(source), skip_symbolic_shape=True)
    nodes, kept_fp32 = None, []
    if scope == "linear-except-gelu":
        kept_fp32 = matmuls_after_gelu(source)
        nodes = [n for n in linear_matmuls(source) if n not in kept_fp32]
    elif scope != "all":
        raise ValueError(f"unknown scope {scope!r}")
    reader = _calibration_reader(calibration_inputs)
    quantize_static(
        source,
        int8_path,
        reader,
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=["MatMul"] if nodes is not None else None,
        nodes_to_quantize=nodes,
        per_channel=per_channel,
        reduce_range=False,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        # No CalibMaxIntermediateOutputs: in onnxruntime 1.31 it discards the batches it
        # should merge. Memory stays small anyway: the calibration graph keeps only min/max.
        calibrate_method=CalibrationMethod.MinMax,
    )
    total_s = time.perf_counter() - start
    # --8<-- [end:static]
    assert reader.first_call is not None and reader.exhausted is not None, "calibration never ran"
    calibration_s = reader.exhausted - reader.first_call
    return {
        "method": "static",
        "format": "QDQ (QuantizeLinear/DequantizeLinear)",
        "scope": scope,
        "nodes_quantized": len(nodes) if nodes is not None else "all supported",
        "nodes_kept_fp32": len(kept_fp32),
        "ort_preprocess_ran": source != fp32_path,
        "weight_type": "QInt8",
        "activation_type": "QUInt8 (range fixed by calibration)",
        "per_channel": per_channel,
        "reduce_range": False,
        "calibration_method": "MinMax",
        "calibration_batches": len(calibration_inputs),
        "calibration_examples": int(sum(next(iter(b.values())).shape[0] for b in calibration_inputs)),
        "calibration_s": calibration_s,
        "quantize_s": total_s - calibration_s,
        "fp32_file_mb": file_mb(fp32_path),
        "int8_file_mb": file_mb(int8_path),
        "graph_ops": op_counts(int8_path),
    }


# ---- calibration data (never the evaluation set) ----------------------------------------------


def calibration_inputs(workload: ModuleType, count: int | None = None) -> list[dict[str, np.ndarray]]:
    """Inputs to calibrate on, batched: never the evaluation examples.

    digits-cnn: images of the TRAIN split; minilm: sentences of the training corpus,
    tokenised like the timed inputs; resnet50: its seeded random images, with a
    seed of their own.
    """
    count = count or CALIBRATION_COUNT[workload.NAME]
    batch = CALIBRATION_BATCH[workload.NAME]
    if workload.NAME == "digits-cnn":
        images = workload.dataset()[0][:count]
        return [{"images": np.ascontiguousarray(images[i : i + batch])} for i in range(0, len(images), batch)]
    if workload.NAME == "minilm":
        from benchmarks.workloads import minilm_corpus

        texts = minilm_corpus.train_texts()[:count]
        return [
            workload._encode(texts[i : i + batch], MINILM_CALIBRATION_SEQ_LEN, pad_to_max=True)
            for i in range(0, len(texts), batch)
        ]
    if workload.NAME == "resnet50":
        images = workload._images(count, workload.IMAGE_SIZE, seed=RESNET_CALIBRATION_SEED)
        return [{"images": images[i : i + batch]} for i in range(0, len(images), batch)]
    raise ValueError(f"no calibration data for workload {workload.NAME!r}")


# Where each workload's calibration inputs come from, for the record.
CALIBRATION_SOURCE = {
    "digits-cnn": "train split (dataset()[0])",
    "minilm": "minilm_corpus.train_texts()",
    "resnet50": f"random images, seed {RESNET_CALIBRATION_SEED}",
}
