"""Low-rank decomposition's experiments (article table row T4): how each variant is built in its
worker from the decompositions of ``benchmarks.techniques.low_rank``, which layers of which
workload are factorised at which ranks, and where each is measured. The rule is in
``benchmarks.claims.low_rank``.

Top-level imports stay light: torch and tensorly load inside functions.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import store, training
from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.techniques.low_rank import (
    SVD_CODE,
    TUCKER_CODE,
    conv_ranks,
    factorize_model_convs,
    replace_linears,
    svd_factorize_linear,
    tucker_factorize_conv,
    tucker_shell,
)
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER

# ---- builders (each runs in its own worker process) -----------------------------------------


def _original_stats(model: Any, inputs: dict) -> dict[str, float]:
    from benchmarks.model_stats import count_flops, model_size

    return {"flops": count_flops(model, inputs), "params": model_size(model)["params"]}


def _flops_record(model: Any, original: dict[str, float], inputs: dict, point: dict) -> dict[str, Any]:
    """FLOPs and parameters of the factorised model next to the original's (recorded in ``info``)."""
    from benchmarks.model_stats import count_flops, model_size

    flops, params = count_flops(model, inputs), model_size(model)["params"]
    return {
        "flops": flops,
        "flops_original": original["flops"],
        "flops_ratio": flops / original["flops"],
        "params_original": original["params"],
        "params_ratio": params / original["params"],
        "flops_point": point,
    }


MINILM_FLOPS_POINT = {"batch": 1, "seq_len": 128}
MINILM_TARGETS: dict[str, Callable[[str], bool]] = {
    # The feed-forward pair of each layer: 384 -> 1536 and 1536 -> 384.
    "ffn": lambda name: (
        name.endswith("intermediate.dense") or (name.endswith("output.dense") and ".attention." not in name)
    ),
    # Query, key, value and the attention output projection: 384 x 384 each.
    "attention": lambda name: ".attention." in name,
}


def build_minilm_svd(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Any:
    """MiniLM with SVD-factorised Linear layers; optionally distilled back towards the original."""
    import torch

    from benchmarks.engines.pytorch import torch_variant

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    start = time.perf_counter()
    model = workload.torch_model()
    load_s = time.perf_counter() - start
    inputs = workload.timing_inputs(MINILM_FLOPS_POINT)
    original = _original_stats(model, inputs)
    targets, fraction = options["targets"], options["rank_fraction"]
    start = time.perf_counter()
    ranks = replace_linears(model, fraction, MINILM_TARGETS[targets])
    costs = {"load_s": load_s, "decompose_s": time.perf_counter() - start}
    if not ranks:
        raise ValueError(f"rank fraction {fraction} reduces no {targets} layer's parameters")
    extra: dict[str, Any] = {}
    if options.get("distill"):
        recipe = dataclasses.replace(training.LOW_RANK_MINILM, **options["distill"]).scaled()
        record = _distilled_minilm(workload, model, recipe, sorted(ranks), fraction)
        costs["finetune_s"] = record.pop("finetune_s")
        extra["finetune"] = record
    return torch_variant(
        model,
        costs,
        method="truncated SVD of Linear layers",
        targets=targets,
        rank_fraction=fraction,
        ranks=sorted(set(ranks.values())),
        layers_factorised=sorted(ranks),
        finetuned=bool(extra),
        **extra,
        **_flops_record(model, original, inputs, MINILM_FLOPS_POINT),
    )


def _distilled_minilm(
    workload: ModuleType, model: Any, recipe: training.Recipe, layers: list[str], fraction: float
) -> dict[str, Any]:
    """Distil the factorised ``layers`` of ``model`` towards the original encoder
    (``training.recover_minilm``; the rest of the encoder stays as it was), or load what an
    earlier run distilled from the same inputs."""
    from benchmarks.workloads import minilm_corpus

    texts = minilm_corpus.train_texts()
    factors = [p for name in layers for p in model.get_submodule(name).parameters()]

    def distil() -> dict[str, Any]:
        spent = training.recover_minilm(model, workload.torch_model(), texts, recipe, factors)
        return {
            "finetune_s": spent["teacher_s"] + spent["train_s"],
            "final_loss": spent["final_loss"],
            "steps": spent["steps"],
            "train_texts": len(texts),
        }

    record, cached = training.stored_weights(
        "minilm_low_rank",
        {**training.minilm_inputs(recipe), "layers": layers, "fraction": fraction},
        model,
        distil,
        code=(*SVD_CODE, *training.MINILM_CODE),
        packages=("transformers",),
    )
    return {**record, "recipe": recipe.knobs(), "cached": cached}


DIGITS_FLOPS_POINT = {"batch": 1}
DIGITS_DENSE = "classifier.1"  # the first dense layer, 512 -> 64
DIGITS_CONV = "features.2"  # the second convolution, 16 -> 32 channels, 3x3


def build_digits_low_rank(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Any:
    """The digits CNN with its first dense layer SVD-factorised and/or its second conv Tucker-factorised."""
    import torch

    from benchmarks.engines.pytorch import torch_variant

    torch.set_num_threads(threads)
    model = workload.torch_model()
    inputs = workload.timing_inputs(DIGITS_FLOPS_POINT)
    original = _original_stats(model, inputs)
    layers: dict[str, Any] = {}
    start = time.perf_counter()
    if options.get("dense_rank"):
        rank = options["dense_rank"]
        model.set_submodule(DIGITS_DENSE, svd_factorize_linear(model.get_submodule(DIGITS_DENSE), rank))
        layers[DIGITS_DENSE] = {"method": "truncated SVD", "rank": rank, "full_rank": 64}
    if options.get("conv_ranks"):
        ranks = tuple(options["conv_ranks"])
        model.set_submodule(DIGITS_CONV, tucker_factorize_conv(model.get_submodule(DIGITS_CONV), ranks))
        layers[DIGITS_CONV] = {"method": "Tucker-2", "ranks_out_in": list(ranks), "full_ranks": [32, 16]}
    costs = {"decompose_s": time.perf_counter() - start}
    finetune: dict[str, Any] = {}
    if options.get("finetune_epochs"):
        recipe = dataclasses.replace(
            training.LOW_RANK_DIGITS, epochs=options["finetune_epochs"], lr=options["finetune_lr"]
        )
        finetune = {**training.finetune_digits(model, recipe), "recipe": recipe.knobs()}
        costs["finetune_s"] = finetune.pop("finetune_s")
    return torch_variant(
        model,
        costs,
        method=" + ".join(v["method"] for v in layers.values()),
        layers_factorised=layers,
        finetuned=bool(finetune),
        **({"finetune": finetune} if finetune else {}),
        **_flops_record(model, original, inputs, DIGITS_FLOPS_POINT),
    )


RESNET_FLOPS_POINT = {"batch": 1, "image_size": 224}


def build_resnet_tucker(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Any:
    """ResNet-50 with every bottleneck's 3x3 convolution Tucker-factorised (no fine-tuning)."""
    import torch

    from benchmarks.engines.pytorch import torch_variant

    torch.set_num_threads(threads)
    model = workload.torch_model()
    inputs = workload.timing_inputs(RESNET_FLOPS_POINT)
    original = _original_stats(model, inputs)
    ratio, sweeps = options["rank_ratio"], options["hooi_sweeps"]
    chosen = conv_ranks(model, ratio, _is_bottleneck_3x3)

    def compute() -> dict[str, Any]:
        start = time.perf_counter()
        factorize_model_convs(model, ratio, _is_bottleneck_3x3, n_iter_max=sweeps)
        return {"decompose_s": time.perf_counter() - start}

    def reshape() -> None:
        for name, ranks in chosen.items():
            model.set_submodule(name, tucker_shell(model.get_submodule(name), (ranks[0], ranks[1])))

    record, cached = training.stored_weights(
        "resnet50_tucker",
        # The workload's file decides the weights decomposed (random, seeded).
        {"workload": store.file_digest(Path(str(workload.__file__))), "options": options},
        model,
        compute,
        code=TUCKER_CODE,
        packages=("tensorly",),
        reshape=reshape,
    )
    return torch_variant(
        model,
        {"decompose_s": record["decompose_s"]},
        method="Tucker-2 of 3x3 convolutions",
        rank_ratio=ratio,
        hooi_sweeps=sweeps,
        layers_factorised=chosen,
        decomposition_cached=cached,
        weights="random (fidelity only)",
        **_flops_record(model, original, inputs, RESNET_FLOPS_POINT),
    )


def _is_bottleneck_3x3(name: str) -> bool:
    return name.endswith("conv2")


# ---- experiments ----------------------------------------------------------------------------

_MODULE = "benchmarks.techniques.low_rank_experiments"
# The recipe's knobs that each variant's options carry (see ``training.LOW_RANK_MINILM``).
MINILM_DISTILL = {k: getattr(training.LOW_RANK_MINILM, k) for k in ("steps", "lr", "batch", "seed")}


def _minilm(name: str, label: str, label_zh: str, **options: Any) -> VariantSpec:
    return VariantSpec(name, label, label_zh, f"{_MODULE}:build_minilm_svd", options)


def _digits(name: str, label: str, label_zh: str, **options: Any) -> VariantSpec:
    packages = ("tensorly",) if options.get("conv_ranks") else ()
    return VariantSpec(name, label, label_zh, f"{_MODULE}:build_digits_low_rank", options, packages)


def _resnet(ratio: float) -> VariantSpec:
    return VariantSpec(
        f"tucker-{ratio:g}",
        f"Tucker-2 of every 3x3 conv, ranks {ratio:g} of channels",
        f"所有 3x3 卷积 Tucker-2 分解,秩为通道数的 {ratio:g}",
        f"{_MODULE}:build_resnet_tucker",
        # One HOOI sweep after the HOSVD start: random weights gain nothing from more.
        {"rank_ratio": ratio, "hooi_sweeps": 1},
        ("tensorly",),
    )


DIGITS_FT = {"finetune_epochs": training.LOW_RANK_DIGITS.epochs, "finetune_lr": training.LOW_RANK_DIGITS.lr}

EXPERIMENTS = [
    Experiment(
        name="low-rank/minilm",
        technique="low_rank",
        workload="minilm",
        variants=(
            PYTORCH_EAGER,
            _minilm(
                "svd-ffn-0.5",
                "SVD of feed-forward layers, rank 0.5",
                "前馈层 SVD,秩 0.5",
                targets="ffn",
                rank_fraction=0.5,
            ),
            _minilm(
                "svd-ffn-0.25",
                "SVD of feed-forward layers, rank 0.25",
                "前馈层 SVD,秩 0.25",
                targets="ffn",
                rank_fraction=0.25,
            ),
            _minilm(
                "svd-attn-0.25",
                "SVD of attention Q/K/V/output projections, rank 0.25",
                "注意力 Q/K/V/输出投影 SVD,秩 0.25",
                targets="attention",
                rank_fraction=0.25,
            ),
            _minilm(
                "svd-ffn-0.5-distilled",
                "SVD of feed-forward layers, rank 0.5, distilled on a training corpus",
                "前馈层 SVD,秩 0.5,在训练语料上蒸馏微调",
                targets="ffn",
                rank_fraction=0.5,
                distill=MINILM_DISTILL,
            ),
        ),
        grids={
            "toy": ({"batch": 1, "seq_len": 16}, {"batch": 2, "seq_len": 16}),
            "default": ({"batch": 1, "seq_len": 128},),  # batch 8 in `full`: the budget
            "full": tuple({"batch": b, "seq_len": s} for b in (1, 8, 32) for s in (32, 128)),
        },
    ),
    Experiment(
        name="low-rank/digits-cnn",
        technique="low_rank",
        workload="digits-cnn",
        variants=(
            PYTORCH_EAGER,
            _digits(
                "svd-dense-r32", "SVD of dense 512→64, rank 32", "全连接层 512→64 SVD,秩 32", dense_rank=32
            ),
            _digits("svd-dense-r8", "SVD of dense 512→64, rank 8", "全连接层 512→64 SVD,秩 8", dense_rank=8),
            _digits(
                "svd-dense-r8-ft",
                "SVD of dense 512→64, rank 8, fine-tuned",
                "全连接层 512→64 SVD,秩 8,微调",
                dense_rank=8,
                **DIGITS_FT,
            ),
            _digits(
                "tucker-conv2",
                "Tucker-2 of conv 2, ranks (16, 8)",
                "第二个卷积 Tucker-2,秩 (16, 8)",
                conv_ranks=[16, 8],
            ),
            _digits(
                "tucker-conv2-ft",
                "Tucker-2 of conv 2, ranks (16, 8), fine-tuned",
                "第二个卷积 Tucker-2,秩 (16, 8),微调",
                conv_ranks=[16, 8],
                **DIGITS_FT,
            ),
        ),
        grids={
            "toy": ({"batch": 1}, {"batch": 8}),
            "default": ({"batch": 1}, {"batch": 256}),
            "full": tuple({"batch": b} for b in (1, 8, 32, 256, 512)),
        },
        requires="benchmarks.techniques.low_rank:tensorly_missing",
    ),
    Experiment(
        name="low-rank/resnet50",
        technique="low_rank",
        workload="resnet50",
        variants=(PYTORCH_EAGER, _resnet(0.5), _resnet(0.25)),
        grids={
            "toy": ({"batch": 1, "image_size": 64},),
            "default": ({"batch": 1, "image_size": 224},),
            "full": ({"batch": 1, "image_size": 224}, {"batch": 8, "image_size": 224}),
        },
        requires="benchmarks.techniques.low_rank:tensorly_missing",
    ),
]
