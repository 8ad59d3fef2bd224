"""What a quantised ONNX graph holds, and the rewrite that lets ONNX Runtime's dynamic quantiser
reach every Linear layer: node counts on disk and after ONNX Runtime's optimisations, the
integer kernels, what stayed in floating point, Gemm rewritten as MatMul."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

# Kernels that compute in integers.
INTEGER_KERNELS = (
    "MatMulInteger",
    "ConvInteger",
    "DynamicQuantizeMatMul",
    "MatMulIntegerToFloat",
    "QGemm",
    "QAttention",
)
# Op types counted in every quantised graph, on disk and after ONNX Runtime's optimisations.
COUNTED_OPS = ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", *INTEGER_KERNELS)


# ---- graph facts ------------------------------------------------------------------------------


def op_counts(path: Path) -> dict[str, int]:
    """How many nodes of each quantisation-related type a graph holds (QLinear* counted together)."""
    import onnx

    ops = Counter(node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node)
    counts = {op: ops[op] for op in COUNTED_OPS if ops[op]}
    qlinear = sum(n for op, n in ops.items() if op.startswith("QLinear"))
    if qlinear:
        counts["QLinear*"] = qlinear
        counts.update({op: n for op, n in sorted(ops.items()) if op.startswith("QLinear")})
    return counts


def integer_kernels(counts: dict[str, int]) -> int:
    """How many nodes of a graph compute in integers (QLinear*, MatMulInteger, QGemm, ...)."""
    return sum(
        n
        for op, n in counts.items()
        if op in INTEGER_KERNELS or (op.startswith("QLinear") and op != "QLinear*")
    )


def float_ops(path: Path) -> dict[str, int]:
    """Compute-heavy nodes left in floating point (what quantisation did not reach)."""
    import onnx

    ops = Counter(node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node)
    return {
        op: ops[op] for op in ("MatMul", "Gemm", "Conv", "FusedConv", "FusedMatMul", "FusedGemm") if ops[op]
    }


def ops_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{op} ×{n}" for op, n in counts.items() if op != "QLinear*") or "none"


def file_mb(path: Path) -> float:
    return path.stat().st_size / 2**20


def gemm_to_matmul(src: Path, dst: Path) -> int:
    """Rewrite plain Gemm nodes (A @ W^T + b) as MatMul + Add; returns how many were rewritten.

    ONNX Runtime's dynamic quantiser handles MatMul but not Gemm, and the exporter
    writes ``nn.Linear`` as Gemm in some graphs (the digits CNN): without this the
    dynamic variant would quantise nothing there.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    nodes, rewritten = [], 0
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        plain = (
            node.op_type == "Gemm"
            and attrs.get("alpha", 1.0) == 1.0
            and attrs.get("beta", 1.0) == 1.0
            and not attrs.get("transA", 0)
            and node.input[1] in inits
        )
        if not plain:
            nodes.append(node)
            continue
        weight = numpy_helper.to_array(inits[node.input[1]])
        if attrs.get("transB", 0):
            weight = weight.T
        name = f"{node.input[1]}_matmul"
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(weight), name))
        product = f"{node.output[0]}_matmul"
        nodes.append(helper.make_node("MatMul", [node.input[0], name], [product], name=f"{node.name}_MatMul"))
        if len(node.input) > 2 and node.input[2]:
            nodes.append(
                helper.make_node("Add", [product, node.input[2]], [node.output[0]], name=f"{node.name}_Add")
            )
        else:
            nodes.append(helper.make_node("Identity", [product], [node.output[0]], name=f"{node.name}_Id"))
        rewritten += 1
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in graph.node for i in n.input}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    onnx.save(model, str(dst))
    return rewritten


class _DropPreprocessAdvice:
    """ONNX Runtime logs advice to pre-process on every quantisation; this pipeline decides that itself."""

    def filter(self, record) -> bool:
        message = str(record.msg)
        return not (message.startswith("Please consider") and "pre-process" in message)


def quiet_preprocess_advice() -> None:
    import logging

    root = logging.getLogger()
    if not any(isinstance(f, _DropPreprocessAdvice) for f in root.filters):
        root.addFilter(_DropPreprocessAdvice())
