"""Parameter pruning (article table row T3): unstructured zeros against structurally smaller models.

Unstructured pruning sets the smallest weights to zero; the tensors keep their
shape, so dense CPU kernels do exactly the same work. Structured pruning
removes whole convolution channels or feed-forward neurons, which leaves a
smaller dense model. Both are measured here for size, FLOPs, latency and the
accuracy or fidelity they cost, with and without the fine-tuning that the
article calls "post-training processing".

Top-level imports stay light: torch and torch-pruning load inside functions.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import training
from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER

SEED = 0
# Where FLOPs are counted: one request, at the workload's standard size.
FLOPS_POINT = {
    "digits-cnn": {"batch": 1},
    "minilm": {"batch": 1, "seq_len": 128},
    "resnet50": {"batch": 1},
}


def _prunable(model: Any) -> list[Any]:
    from torch import nn

    return [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear))]


# --8<-- [start:magnitude]
def magnitude_prune(model: Any, sparsity: float) -> Any:
    """Zero the ``sparsity`` fraction of Conv/Linear weights with the smallest |w|, ranked globally."""
    from torch.nn.utils import prune

    targets = [(module, "weight") for module in _prunable(model)]
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=sparsity)
    for module, name in targets:
        prune.remove(module, name)  # make it permanent: plain weight tensors that hold zeros
    return model


# --8<-- [end:magnitude]


def weight_sparsity(model: Any) -> float:
    """Fraction of Conv/Linear weights that are exactly zero."""
    import torch

    weights = [m.weight for m in _prunable(model)]
    total = sum(w.numel() for w in weights)
    zeros = sum(int(torch.count_nonzero(w == 0)) for w in weights)
    return zeros / total if total else 0.0


# --8<-- [start:channels]
def prune_channels(model: Any, ratio: float, example_inputs: dict, ignored_layers: list | None = None) -> Any:
    """Remove ``ratio`` of the channels of every Conv/Linear layer by L1 magnitude: a smaller dense model.

    torch-pruning traces the model on ``example_inputs`` to find coupled layers (a
    convolution, its BatchNorm, the next layer's inputs, residual additions) and
    cuts them together. The final classifier keeps its outputs (one per class).
    """
    import torch
    import torch_pruning as tp

    inputs = {k: torch.as_tensor(v) for k, v in example_inputs.items()}
    if ignored_layers is None:
        ignored_layers = [_prunable(model)[-1]]
    pruner = tp.pruner.BasePruner(
        model,
        example_inputs=inputs,
        importance=tp.importance.MagnitudeImportance(p=1),
        pruning_ratio=ratio,
        ignored_layers=ignored_layers,
    )
    pruner.step()
    return model


# --8<-- [end:channels]


# --8<-- [start:ffn]
def prune_ffn_neurons(model: Any, ratio: float) -> Any:
    """Remove ``ratio`` of the feed-forward neurons of every transformer layer, by weight magnitude.

    A neuron is one row of the intermediate Linear and the matching column of the
    output Linear; its score is the product of their L2 norms. Both layers are
    replaced by smaller dense ones, so every matrix product shrinks.
    """
    import torch
    from torch import nn

    for layer in model.modules():
        intermediate: Any = getattr(layer, "intermediate", None)  # a BERT layer's FFN halves
        output: Any = getattr(layer, "output", None)
        if not isinstance(getattr(intermediate, "dense", None), nn.Linear):
            continue
        up, down = intermediate.dense, output.dense
        score = up.weight.norm(dim=1) * down.weight.norm(dim=0)
        keep = max(1, round(up.out_features * (1 - ratio)))
        kept = torch.sort(torch.topk(score, keep).indices).values
        new_up = nn.Linear(up.in_features, keep)
        new_down = nn.Linear(keep, down.out_features)
        with torch.no_grad():
            new_up.weight.copy_(up.weight[kept])
            new_up.bias.copy_(up.bias[kept])
            new_down.weight.copy_(down.weight[:, kept])
            new_down.bias.copy_(down.bias)
        intermediate.dense, output.dense = new_up, new_down
    return model


# --8<-- [end:ffn]


def _distilled_minilm(student: Any, ratio: float) -> tuple[Any, float, bool, training.Recipe]:
    """Distil the FFN-pruned ``student`` back towards the unpruned encoder (``training.recover_minilm``:
    every layer but the embedding tables, which pruning did not touch, learns); stored by the
    training code, the pruning code, the corpus, the model, the ratio and the recipe."""
    from benchmarks.workloads import minilm, minilm_corpus

    recipe = training.PRUNING_MINILM.scaled()

    def distil() -> dict[str, float]:
        teacher = minilm.torch_model()
        texts = minilm_corpus.train_texts()
        spent = training.recover_minilm(student, teacher, texts, recipe, training.all_but_embeddings(student))
        return {"distil_s": spent["teacher_s"] + spent["train_s"]}

    record, cached = training.stored_weights(
        "minilm_pruned",
        {**training.minilm_inputs(recipe), "ratio": ratio},
        student,
        distil,
        code=(prune_ffn_neurons, *training.MINILM_CODE),
        packages=("transformers",),
    )
    return student.eval(), float(record["distil_s"]), cached, recipe


def _count_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def build_pruned(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """Prune the workload's model as ``options`` say, optionally fine-tune it, and time it eagerly."""
    import torch

    from benchmarks.engines.pytorch import torch_variant
    from benchmarks.model_stats import count_flops

    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    method, amount = options["method"], options["amount"]
    flops_inputs = workload.timing_inputs(FLOPS_POINT[workload.NAME])
    model = workload.torch_model()
    params_before, flops_before = _count_params(model), count_flops(model, flops_inputs)
    costs: dict[str, float] = {}
    extra: dict[str, Any] = {"recovery": "none"}
    start = time.perf_counter()
    if method == "unstructured":
        magnitude_prune(model, amount)
    elif method == "channels":
        prune_channels(model, amount, workload.example_inputs())
    elif method == "ffn-neurons":
        prune_ffn_neurons(model, amount)
    else:
        raise ValueError(f"unknown pruning method {method!r}")
    costs["prune_s"] = time.perf_counter() - start
    if options.get("distil"):
        model, costs["distil_s"], cached, recipe = _distilled_minilm(model, amount)
        extra = {
            "recovery": "distillation",
            "distil_cached": cached,
            "distil_corpus": "minilm_train.txt",
            **{f"distil_{k}": v for k, v in recipe.knobs().items()},
        }
    if options.get("finetune_epochs"):
        # The recipe trains on one thread: batches of 64 tiny images gain nothing from more,
        # and sibling workers build their variants at the same time.
        recipe = dataclasses.replace(
            training.PRUNING_DIGITS,
            epochs=options["finetune_epochs"],
            lr=options.get("finetune_lr", training.PRUNING_DIGITS.lr),
            seed=SEED,
        )
        costs["finetune_s"] = training.finetune_digits(model, recipe)["finetune_s"]
        extra = {
            "recovery": "fine-tune",
            "finetune_epochs": options["finetune_epochs"],
            **{f"finetune_{k}": v for k, v in recipe.knobs().items() if k != "epochs"},
        }
    model.eval()
    params = _count_params(model)
    return torch_variant(
        model,
        costs,
        method=method,
        target_amount=amount,
        weight_sparsity=weight_sparsity(model),
        params_removed=1 - params / params_before,
        params_unpruned=params_before,
        flops=count_flops(model, flops_inputs),
        flops_unpruned=flops_before,
        flops_point=FLOPS_POINT[workload.NAME],
        **extra,
    )


def _variant(name: str, label: str, label_zh: str, **options: Any) -> VariantSpec:
    packages = ("torch-pruning",) if options["method"] == "channels" else ()
    return VariantSpec(name, label, label_zh, "benchmarks.techniques.pruning:build_pruned", options, packages)


DIGITS_VARIANTS = (
    PYTORCH_EAGER,
    _variant(
        "unstructured-50-ft",
        "Unstructured 50% + fine-tune",
        "非结构化 50% + 微调",
        method="unstructured",
        amount=0.5,
        finetune_epochs=training.PRUNING_DIGITS.epochs,
    ),
    _variant(
        "unstructured-90",
        "Unstructured 90%, no fine-tune",
        "非结构化 90%,不微调",
        method="unstructured",
        amount=0.9,
    ),
    _variant(
        "unstructured-90-ft",
        "Unstructured 90% + fine-tune",
        "非结构化 90% + 微调",
        method="unstructured",
        amount=0.9,
        finetune_epochs=training.PRUNING_DIGITS.epochs,
    ),
    _variant(
        "channels-50-ft",
        "Channels 50% (structured) + fine-tune",
        "通道 50%(结构化)+ 微调",
        method="channels",
        amount=0.5,
        finetune_epochs=training.PRUNING_DIGITS.epochs,
    ),
)

MINILM_VARIANTS = (
    PYTORCH_EAGER,
    _variant(
        "ffn-50",
        "FFN neurons 50% (structured), no recovery",
        "FFN 神经元 50%(结构化),不恢复",
        method="ffn-neurons",
        amount=0.5,
    ),
    _variant(
        "ffn-50-distilled",
        "FFN neurons 50% + distilled recovery",
        "FFN 神经元 50% + 蒸馏恢复",
        method="ffn-neurons",
        amount=0.5,
        distil=True,
    ),
    _variant(
        "unstructured-50",
        "Unstructured 50% of Linear weights",
        "Linear 权重非结构化 50%",
        method="unstructured",
        amount=0.5,
    ),
)

RESNET_VARIANTS = (
    PYTORCH_EAGER,
    _variant(
        "channels-50",
        "Channels 50% (structured), no fine-tune",
        "通道 50%(结构化),不微调",
        method="channels",
        amount=0.5,
    ),
)

EXPERIMENTS = [
    Experiment(
        name="pruning/digits-cnn",
        technique="pruning",
        workload="digits-cnn",
        variants=DIGITS_VARIANTS,
        grids={
            "toy": ({"batch": 1}, {"batch": 8}),
            "default": ({"batch": 1}, {"batch": 256}),
            "full": ({"batch": 1}, {"batch": 32}, {"batch": 256}),
        },
    ),
    Experiment(
        name="pruning/minilm",
        technique="pruning",
        workload="minilm",
        variants=MINILM_VARIANTS,
        grids={
            "toy": ({"batch": 1, "seq_len": 16}, {"batch": 2, "seq_len": 16}),
            "default": ({"batch": 1, "seq_len": 128},),  # batch 8 in `full`: the budget
            "full": (
                {"batch": 1, "seq_len": 32},
                {"batch": 1, "seq_len": 128},
                {"batch": 8, "seq_len": 128},
            ),
        },
    ),
    Experiment(
        name="pruning/resnet50",
        technique="pruning",
        workload="resnet50",
        variants=RESNET_VARIANTS,
        grids={
            "toy": ({"batch": 1, "image_size": 64},),
            "default": ({"batch": 1},),
            "full": ({"batch": 1}, {"batch": 8}),
        },
    ),
]
