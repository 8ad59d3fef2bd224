"""ONNX Runtime against PyTorch eager (article table row T1, and section 3)."""

from __future__ import annotations

from benchmarks.experiments import Experiment, VariantSpec

PYTORCH_EAGER = VariantSpec(
    "pytorch-eager", "PyTorch eager FP32", "PyTorch eager FP32", "benchmarks.engines:build_pytorch_eager"
)
ORT_PACKAGES = ("onnxruntime", "onnx", "onnxscript")
ORT_ALL = VariantSpec(
    "onnxruntime",
    "ONNX Runtime FP32 (all graph optimisations)",
    "ONNX Runtime FP32(全部图优化)",
    "benchmarks.engines:build_onnxruntime",
    {"opt_level": "all"},
    ORT_PACKAGES,
)

# Basic optimisations only (constant folding, redundant-node removal): a control
# that shows what the extended fusions add or cost on this CPU.
ORT_BASIC = VariantSpec(
    "onnxruntime-basic",
    "ONNX Runtime FP32 (basic graph optimisations)",
    "ONNX Runtime FP32(仅基础图优化)",
    "benchmarks.engines:build_onnxruntime",
    {"opt_level": "basic"},
    ORT_PACKAGES,
)


def _grid(batches: tuple[int, ...], seq_lens: tuple[int, ...] | None = None) -> tuple[dict[str, int], ...]:
    if seq_lens is None:
        return tuple({"batch": b} for b in batches)
    return tuple({"batch": b, "seq_len": s} for b in batches for s in seq_lens)


EXPERIMENTS = [
    Experiment(
        name="onnxruntime/minilm",
        technique="onnxruntime",
        workload="minilm",
        variants=(PYTORCH_EAGER, ORT_ALL, ORT_BASIC),
        grids={
            "toy": _grid((1, 2), (16,)),
            "default": _grid((1, 8), (32, 128)),
            "full": _grid((1, 4, 16, 32), (16, 64, 128, 256)),
        },
    ),
    Experiment(
        name="onnxruntime/digits-cnn",
        technique="onnxruntime",
        workload="digits-cnn",
        variants=(PYTORCH_EAGER, ORT_ALL, ORT_BASIC),
        grids={
            "toy": _grid((1, 8)),
            "default": _grid((1, 32, 256)),
            "full": _grid((1, 8, 32, 128, 512)),
        },
    ),
]
