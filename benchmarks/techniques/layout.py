"""Memory layout (C5): channels_last against contiguous (NCHW) tensors, for the CNNs.

Top-level imports stay light: torch loads inside the builder.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType

import numpy as np

from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.points import grid

LAYOUTS = {
    "contiguous": "contiguous NCHW weights and inputs",
    "channels-last": "channels_last (NHWC) weights; NCHW inputs converted inside the timed call",
    "channels-last-prepared": "channels_last (NHWC) weights; inputs converted once, before timing",
}


# --8<-- [start:layout]
def build_layout(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """The eager FP32 CNN with weights (and inputs) in one memory layout."""
    import torch

    from benchmarks.engines import Variant
    from benchmarks.engines.pytorch import torch_variant

    layout = options["layout"]
    torch.set_num_threads(threads)
    start = time.perf_counter()
    model = workload.torch_model()
    load_s = time.perf_counter() - start
    example = {k: torch.from_numpy(v) for k, v in workload.example_inputs().items()}
    with torch.inference_mode():
        reference = model(**example)
    if layout == "contiguous":
        return torch_variant(model, {"load_s": load_s}, method="layout", layout=LAYOUTS[layout])
    nhwc = torch.channels_last
    start = time.perf_counter()
    model = model.to(memory_format=nhwc)  # 4-D weights are reordered in place; others are unchanged
    convert_s = time.perf_counter() - start
    prepared = layout == "channels-last-prepared"

    def bind(inputs: dict[str, np.ndarray]):
        tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}
        if prepared:
            tensors = {k: v.contiguous(memory_format=nhwc) for k, v in tensors.items()}

        def call():
            with torch.inference_mode():
                if prepared:
                    return model(**tensors)
                # What a service pays: the NCHW array it receives is reordered on every request.
                return model(**{k: v.contiguous(memory_format=nhwc) for k, v in tensors.items()})

        return call

    # --8<-- [end:layout]
    with torch.inference_mode():
        converted = bind({k: v.numpy() for k, v in example.items()})()
    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    record = torch_variant(
        model,
        {"load_s": load_s, "convert_s": convert_s},
        method="layout",
        layout=LAYOUTS[layout],
        conv_weights_channels_last=all(w.is_contiguous(memory_format=nhwc) for w in weights),
        max_abs_diff_vs_contiguous=float((converted - reference).abs().max()),
    )
    return Variant(bind, lambda inputs: bind(inputs)().float().numpy(), record.info, record.one_time_costs)


def _layout_variants(prepared: bool) -> tuple[VariantSpec, ...]:
    specs = [
        VariantSpec(
            "pytorch-eager",
            "PyTorch eager FP32 (contiguous NCHW)",
            "PyTorch eager FP32(连续 NCHW)",
            "benchmarks.techniques.layout:build_layout",
            {"layout": "contiguous"},
        ),
        VariantSpec(
            "channels-last",
            "channels_last, input converted per call",
            "channels_last,每次调用时转换输入",
            "benchmarks.techniques.layout:build_layout",
            {"layout": "channels-last"},
        ),
    ]
    if prepared:
        specs.append(
            VariantSpec(
                "channels-last-prepared",
                "channels_last, input converted beforehand",
                "channels_last,输入预先转换",
                "benchmarks.techniques.layout:build_layout",
                {"layout": "channels-last-prepared"},
            )
        )
    return tuple(specs)


# The technique stays "principles": the page's name, stored in every result's configuration.
EXPERIMENTS = [
    Experiment(
        name="layout/resnet50",
        technique="principles",
        workload="resnet50",
        variants=_layout_variants(prepared=False),
        grids={
            "toy": ({"batch": 1, "image_size": 64},),
            "default": ({"batch": 1},),
            "full": ({"batch": 1}, {"batch": 8}),
        },
    ),
    Experiment(
        name="layout/digits-cnn",
        technique="principles",
        workload="digits-cnn",
        variants=_layout_variants(prepared=True),
        grids={"toy": grid((1, 64)), "default": grid((1, 32, 256)), "full": grid((1, 32, 256, 2048))},
    ),
]
