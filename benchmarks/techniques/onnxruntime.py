"""ONNX Runtime against PyTorch eager (article table row T1, section 3) and its graph optimisation (C6).

``onnxruntime/*`` compares the converted model with PyTorch over a grid of
shapes, as ONNX Runtime runs at its defaults on ``torch.onnx.export``'s default
export and in the best configurations this build knows (the export chosen by
``engines.onnxruntime.choose_export``, tuned session options, the transformer optimiser or
IO binding). ``onnxruntime-levels/*`` runs one exported file at each of ONNX
Runtime's graph optimisation levels, through the transformer optimiser
(MiniLM) and with pre-bound inputs and outputs (IO binding, claim C5), and
records how many nodes of which operators each optimised graph holds.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.points import grid

if TYPE_CHECKING:
    from benchmarks.engines import Variant

PYTORCH_EAGER = VariantSpec(
    "pytorch-eager",
    "PyTorch eager FP32",
    "PyTorch eager FP32",
    "benchmarks.engines.pytorch:build_pytorch_eager",
)
ORT_PACKAGES = ("onnxruntime", "onnx", "onnxscript")
# One builder for every ONNX Runtime CPU variant: the export is made once per
# model and shared, and each session records the graph it optimised.
ORT_BUILDER = "benchmarks.techniques.onnxruntime:build_ort_graph"
ORT_ALL = VariantSpec(
    "onnxruntime",
    "ONNX Runtime FP32 (chosen export, tuned session, all graph optimisations)",
    "ONNX Runtime FP32(择优导出、调优会话、全部图优化)",
    ORT_BUILDER,
    {"opt_level": "all"},
    ORT_PACKAGES,
)
# What a user gets with nothing chosen: torch.onnx.export at its defaults, and ONNX Runtime's own
# session defaults (only the thread count set, the same as PyTorch's).
ORT_PLAIN = VariantSpec(
    "ort-plain",
    "ONNX Runtime FP32 at its defaults, on torch.onnx.export's default export",
    "ONNX Runtime FP32 默认设置,torch.onnx.export 默认导出",
    ORT_BUILDER,
    {"opt_level": "all", "export": "plain", "session": "defaults"},
    ORT_PACKAGES,
)

# Basic optimisations only (constant folding, redundant-node removal): a control
# that shows what the extended fusions add or cost on this CPU.
ORT_BASIC = VariantSpec(
    "onnxruntime-basic",
    "ONNX Runtime FP32 (basic graph optimisations)",
    "ONNX Runtime FP32(仅基础图优化)",
    ORT_BUILDER,
    {"opt_level": "basic"},
    ORT_PACKAGES,
)

LEVEL_LABELS = {
    "disabled": ("all graph optimisations disabled", "关闭全部图优化"),
    "basic": ("basic: constant folding, redundant nodes", "basic:常量折叠、删除冗余节点"),
    "extended": ("extended: + operator fusions", "extended:再加算子融合"),
    "all": ("all: + layout optimisations", "all:再加数据布局优化"),
}
ORT_LEVELS = tuple(
    VariantSpec(
        f"ort-{level}",
        f"ONNX Runtime FP32, {en}",
        f"ONNX Runtime FP32,{zh}",
        ORT_BUILDER,
        {"opt_level": level},
        ORT_PACKAGES,
    )
    for level, (en, zh) in LEVEL_LABELS.items()
)
# MiniLM-L6 is a BERT-shaped encoder: 12 attention heads, hidden size 384.
ORT_TRANSFORMER = VariantSpec(
    "ort-transformer-optimizer",
    "ONNX Runtime FP32, transformer optimiser + all",
    "ONNX Runtime FP32,transformer 优化器 + all",
    ORT_BUILDER,
    {"opt_level": "all", "transformer": {"model_type": "bert", "num_heads": 12, "hidden_size": 384}},
    ORT_PACKAGES,
)
# The tuned session with its idle threads sleeping instead of spinning: what spinning buys.
ORT_NO_SPIN = VariantSpec(
    "ort-all-no-spin",
    "ONNX Runtime FP32, all, idle threads sleeping (allow_spinning 0)",
    "ONNX Runtime FP32,all,空闲线程休眠(allow_spinning 0)",
    ORT_BUILDER,
    {"opt_level": "all", "spinning": False},
    ORT_PACKAGES,
)
ORT_IO_BINDING = VariantSpec(
    "ort-all-io-binding",
    "ONNX Runtime FP32, all, IO binding (pre-bound input and output)",
    "ONNX Runtime FP32,all,IO binding(预先绑定输入输出)",
    ORT_BUILDER,
    {"opt_level": "all", "io_binding": True},
    ORT_PACKAGES,
)


EXPERIMENTS = [
    Experiment(
        name="onnxruntime/minilm",
        technique="onnxruntime",
        workload="minilm",
        variants=(PYTORCH_EAGER, ORT_PLAIN, ORT_ALL, ORT_TRANSFORMER),
        grids={
            "toy": grid((1, 2), (16,)),
            "default": (*grid((1,), (32, 128)), {"batch": 8, "seq_len": 128}),
            "full": grid((1, 8, 32), (32, 128, 256)),
        },
    ),
    Experiment(
        name="onnxruntime/digits-cnn",
        technique="onnxruntime",
        workload="digits-cnn",
        variants=(PYTORCH_EAGER, ORT_PLAIN, ORT_ALL, ORT_IO_BINDING),
        grids={
            "toy": grid((1, 8)),
            "default": grid((1, 256)),
            "full": grid((1, 8, 32, 256, 512)),
        },
    ),
    Experiment(
        name="onnxruntime-levels/minilm",
        technique="onnxruntime",
        workload="minilm",
        variants=(PYTORCH_EAGER, *ORT_LEVELS, ORT_TRANSFORMER, ORT_NO_SPIN),
        grids={
            "toy": grid((1,), (16,)),
            "default": grid((1,), (128,)),
            "full": grid((1, 8), (32, 128)),
        },
    ),
    Experiment(
        name="onnxruntime-levels/digits-cnn",
        technique="onnxruntime",
        workload="digits-cnn",
        variants=(PYTORCH_EAGER, *ORT_LEVELS, ORT_IO_BINDING),
        grids={
            "toy": grid((1,)),
            # batch 256 as well would add roughly 17 s on the 2-core machine; the full profile has it
            "default": grid((1,)),
            "full": grid((1, 32, 256)),
        },
    ),
]


# ---- building variants (inside a worker process) ----------------------------------------------


# --8<-- [start:count-nodes]
def graph_ops(path: Path) -> dict[str, int]:
    """Operators of an ONNX graph and how often each occurs; ops outside the standard domain keep it."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    ops = Counter(
        f"{node.domain}.{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type
        for node in graph.node
    )
    return dict(ops.most_common())


def optimized_graph_ops(model: Path, session_options: Any, workdir: Path) -> dict[str, int]:
    """Open the model once more with the same options, have ONNX Runtime write the graph as it
    optimised it, and count that graph's operators (apart from the timed session, whose creation
    time must not include the writing)."""
    import onnxruntime as ort

    saved = workdir / f"optimized-{model.stem}.onnx"
    session_options.optimized_model_filepath = str(saved)
    session_options.log_severity_level = 3  # a graph saved at level "all" is CPU-specific: a known warning
    ort.InferenceSession(str(model), session_options, providers=["CPUExecutionProvider"])
    return graph_ops(saved)


# --8<-- [end:count-nodes]


# The operators ONNX Runtime's BERT fusions write, counted on every graph they run on.
FUSED_OPS = (
    "Attention",
    "MultiHeadAttention",
    "SkipLayerNormalization",
    "EmbedLayerNormalization",
    "Gelu",
    "FastGelu",
    "BiasGelu",
)


def transformer_optimize(
    source: Path, settings: dict[str, Any], workdir: Path
) -> tuple[Path, dict[str, Any]]:
    """ONNX Runtime's offline transformer optimiser: pattern fusions written into a new file."""
    import contextlib
    import io

    # --8<-- [start:transformer-optimizer]
    from onnxruntime.transformers.optimizer import optimize_model

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # it prints when symbolic shape inference fails
        optimized = optimize_model(
            str(source),
            model_type=settings["model_type"],
            num_heads=settings["num_heads"],
            hidden_size=settings["hidden_size"],
            opt_level=0,  # only the optimiser's own fusions; the session applies its levels after
        )
    fused = optimized.get_fused_operator_statistics()
    path = workdir / f"transformer-optimized-{source.stem}.onnx"
    optimized.save_model_to_file(str(path))
    # --8<-- [end:transformer-optimizer]
    counts = {op: int(fused.get(op, 0)) for op in FUSED_OPS}
    return path, {
        "fused_operators": {op: n for op, n in fused.items() if n},
        "fused_counts": counts,
        "fused_counts_text": ", ".join(f"{op} {n}" for op, n in counts.items() if n) or "none",
        "attention_fused": bool(counts["Attention"] or counts["MultiHeadAttention"]),
        "shape_inference_failed": "failed in shape inference" in printed.getvalue(),
        **{f"transformer_{k}": v for k, v in settings.items()},
    }


def io_binding_call(session: Any, inputs: dict[str, Any]) -> tuple[Callable[[], Any], Any]:
    """A call whose input and output live in buffers bound once, so no call allocates them."""
    import numpy as np
    import onnxruntime as ort

    # --8<-- [start:io-binding]
    binding = session.io_binding()
    bound_inputs = {name: ort.OrtValue.ortvalue_from_numpy(value) for name, value in inputs.items()}
    for name, value in bound_inputs.items():
        binding.bind_ortvalue_input(name, value)
    output_name = session.get_outputs()[0].name
    shape = session.run([output_name], inputs)[0].shape  # one plain run to learn the output shape
    output = ort.OrtValue.ortvalue_from_shape_and_type(shape, np.float32)
    binding.bind_ortvalue_output(output_name, output)

    def call() -> Any:
        session.run_with_iobinding(binding)
        return output

    # --8<-- [end:io-binding]
    call.buffers = (inputs, bound_inputs)  # type: ignore[attr-defined]  # bound memory must outlive the call
    return call, output


def build_ort_graph(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """ONNX Runtime at one graph optimisation level, on the chosen export (or the plain one),
    optionally after the transformer optimiser or with IO binding; the optimised graph is saved
    and its operators counted."""
    import numpy as np
    import torch

    from benchmarks.engines import Variant
    from benchmarks.engines.onnxruntime import (
        check_session_parity,
        exported_model,
        ort_session,
        ort_session_options,
    )

    torch.set_num_threads(threads)
    model = workload.torch_model()
    source, export_info = exported_model(model, workload, threads, options.get("export", "chosen"))
    costs = {"export_s": export_info.pop("export_s")}
    # ONNX Runtime turns Constant nodes into initializers when it loads a graph, at every level
    # (the TorchScript exporter writes many): they are not counted as nodes of the export.
    exported = graph_ops(source)
    extra: dict[str, Any] = {
        "exported_nodes": sum(n for op, n in exported.items() if op != "Constant"),
        "exported_constant_nodes": exported.get("Constant", 0),
    }
    path = source
    if "transformer" in options:
        start = time.perf_counter()
        path, extra_transformer = transformer_optimize(source, options["transformer"], workdir)
        costs["transformer_optimize_s"] = time.perf_counter() - start
        extra.update(extra_transformer)
        # The same optimiser on every exact candidate export, so the page can say what each
        # exporter's graph lets it fuse.
        extra["fused_counts_by_export"] = {}
        for name, candidate in export_info["export_candidates"].items():
            if not candidate["exact"]:
                continue
            other = exported_model(model, workload, threads, name)[0]
            if other == source:
                counts = extra_transformer["fused_counts"]
            else:
                counts = transformer_optimize(other, options["transformer"], workdir)[1]["fused_counts"]
            extra["fused_counts_by_export"][name] = counts
        extra["fused_by_export_text"] = "; ".join(
            f"{name}: " + (", ".join(f"{op} {n}" for op, n in counts.items() if n) or "none")
            for name, counts in extra["fused_counts_by_export"].items()
        )

    # --8<-- [start:session]
    level = options["opt_level"]
    # The options every ONNX Runtime variant gets, from one place (engines.ort_session_options);
    # "defaults": ONNX Runtime's own, with only the thread count set.
    session_options, settings = ort_session_options(
        threads,
        level,
        engine_defaults=options.get("session") == "defaults",
        spinning=bool(options.get("spinning", True)),
    )
    start = time.perf_counter()
    session = ort_session(path, session_options)
    costs["session_create_s"] = time.perf_counter() - start
    # --8<-- [end:session]
    ops = optimized_graph_ops(path, session_options, workdir)

    worst = check_session_parity(model, session, workload, f"ONNX Runtime ({level})")
    del model

    io_binding = bool(options.get("io_binding"))

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        if io_binding:
            return io_binding_call(session, inputs)[0]
        return lambda: session.run(None, inputs)

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        if io_binding:
            call, output = io_binding_call(session, inputs)
            call()
            return output.numpy().copy()
        return session.run(None, inputs)[0]

    record = {
        "engine": "onnxruntime",
        "precision": "fp32",
        "providers": session.get_providers(),
        **settings,
        "io_binding": io_binding,
        "graph_nodes": sum(ops.values()),
        "graph_ops": ops,
        **extra,
        "parity_max_abs_diff": worst,
        "parity_tolerance": workload.PARITY_ATOL,
        **export_info,
    }
    return Variant(bind, predict, record, costs)
