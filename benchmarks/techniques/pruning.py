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

import hashlib
import inspect
import json
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.experiments import Experiment, VariantSpec, training_length
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER
from benchmarks.verdicts import Finding, Verdict, margin_text, quality, side_of, speedup, speedup_entry

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
        intermediate, output = getattr(layer, "intermediate", None), getattr(layer, "output", None)
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


def _zero_masks(model: Any) -> list[tuple[Any, Any]]:
    """(weight, mask) for every Conv/Linear weight holding pruned zeros."""
    return [(m.weight, m.weight != 0) for m in _prunable(model) if bool((m.weight == 0).any())]


# --8<-- [start:finetune]
def finetune_digits(model: Any, epochs: int, lr: float, seed: int) -> tuple[Any, float]:
    """Fine-tune on the digits TRAIN split only; weights pruned to zero stay zero."""
    import torch

    from benchmarks.workloads import digits_cnn

    torch.manual_seed(seed)
    x_train, _, y_train, _ = digits_cnn.dataset()
    xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
    masks = _zero_masks(model)

    def keep_zeros() -> None:  # re-apply the masks: the update moved pruned weights
        with torch.no_grad():
            for weight, mask in masks:
                weight.mul_(mask)

    return model, digits_cnn.fit(model, xs, ys, epochs=epochs, lr=lr, seed=seed, after_step=keep_zeros)


# --8<-- [end:finetune]


# --8<-- [start:distil]
def distil_minilm(
    student: Any, teacher: Any, texts: list[str], steps: int, batch: int, lr: float, seed: int
) -> tuple[Any, float]:
    """Recover a pruned encoder by pulling its embeddings towards the unpruned model's (cosine loss).

    ``texts`` is a training corpus, never the evaluation set. Dropout stays off:
    in a short recovery run it only adds noise. The embedding tables, which pruning
    did not touch, stay frozen: updating their 12 M parameters took half of each step.
    """
    import torch

    from benchmarks.workloads import minilm

    torch.manual_seed(seed)
    tokenizer = minilm.tokenizer()
    masks = _zero_masks(student)
    order = torch.randperm(len(texts), generator=torch.Generator().manual_seed(seed)).tolist()
    for parameter in student.encoder.embeddings.parameters():
        parameter.requires_grad_(False)
    trained = [p for p in student.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=lr, weight_decay=0.0)
    student.eval()
    start = time.perf_counter()
    for step in range(steps):
        chosen = [texts[order[(step * batch + i) % len(order)]] for i in range(batch)]
        tokens = tokenizer(chosen, padding=True, truncation=True, max_length=128, return_tensors="pt")
        inputs = {"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}
        with torch.inference_mode():
            target = teacher(**inputs)
        loss = (1 - torch.nn.functional.cosine_similarity(student(**inputs), target.clone(), dim=-1)).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            for weight, mask in masks:
                weight.mul_(mask)
    for parameter in student.parameters():
        parameter.requires_grad_(True)
    return student, time.perf_counter() - start


# --8<-- [end:distil]


DISTIL_SETTINGS = {"steps": 80, "batch": 16, "lr": 1e-4, "seed": SEED}  # steps: the `full` profile's


def _distil_settings() -> dict[str, Any]:
    return {**DISTIL_SETTINGS, "steps": training_length(DISTIL_SETTINGS["steps"])}


def _distilled_minilm(student: Any, ratio: float) -> tuple[Any, float, bool]:
    """Distil the FFN-pruned ``student``; cached by this file, the corpus, the settings and versions."""
    import torch
    import transformers

    from benchmarks.workloads import cache_dir, minilm, minilm_corpus

    key = json.dumps(
        {
            # The code that decides the weights, not the whole file: edits elsewhere keep the cache.
            "source": [inspect.getsource(f) for f in (prune_ffn_neurons, distil_minilm, _zero_masks)],
            "corpus": minilm_corpus.TRAIN_TEXT.read_text(encoding="utf-8"),
            "model": minilm.MODEL_SHA256,
            "ratio": ratio,
            "settings": _distil_settings(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
        sort_keys=True,
    )
    path = cache_dir() / "models" / f"minilm_pruned-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"
    if path.exists():
        try:
            checkpoint = torch.load(path, weights_only=True)
            student.load_state_dict(checkpoint["state_dict"])
            return student.eval(), float(checkpoint["distil_s"]), True
        except Exception as exc:  # a truncated or foreign file: train again rather than fail
            print(
                f"warning: ignoring unreadable cached model {path} ({type(exc).__name__}); distilling again"
            )
    teacher = minilm.torch_model()
    student, seconds = distil_minilm(student, teacher, minilm_corpus.train_texts(), **_distil_settings())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save({"state_dict": student.state_dict(), "distil_s": seconds}, tmp)
    os.replace(tmp, path)
    return student.eval(), seconds, False


def _count_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def build_pruned(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """Prune the workload's model as ``options`` say, optionally fine-tune it, and time it eagerly."""
    import torch

    from benchmarks.engines import torch_variant
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
        model, costs["distil_s"], cached = _distilled_minilm(model, amount)
        extra = {
            "recovery": "distillation",
            "distil_cached": cached,
            "distil_corpus": "minilm_train.txt",
            **{f"distil_{k}": v for k, v in _distil_settings().items()},
        }
    if options.get("finetune_epochs"):
        # One thread: batches of 64 tiny images gain nothing from more, and sibling
        # workers build their variants at the same time.
        torch.set_num_threads(1)
        model, costs["finetune_s"] = finetune_digits(
            model, options["finetune_epochs"], options.get("finetune_lr", 1e-3), SEED
        )
        torch.set_num_threads(threads)
        extra = {"recovery": "fine-tune", "finetune_epochs": options["finetune_epochs"]}
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
        finetune_epochs=10,
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
        finetune_epochs=10,
    ),
    _variant(
        "channels-50-ft",
        "Channels 50% (structured) + fine-tune",
        "通道 50%(结构化)+ 微调",
        method="channels",
        amount=0.5,
        finetune_epochs=10,
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


# ---- the claim ------------------------------------------------------------------------------

STRUCTURED = ("channels", "ffn-neurons")
MIN_SPEEDUP = 1.2
MAX_ACCURACY_DROP = 0.01  # digits-cnn: one percentage point of test accuracy
MIN_COSINE = 0.95  # MiniLM: mean cosine of embeddings to the unpruned model's


def _within_bound(result: Any, name: str) -> tuple[bool, str, str]:
    """Whether a variant keeps the quality bound, and the figure that says so (en, zh)."""
    got, base = quality(result, name), quality(result, result.config["baseline"])
    if "accuracy" in got:
        text = f"{got['accuracy']:.1%} vs {base['accuracy']:.1%}"
        return got["accuracy"] >= base["accuracy"] - MAX_ACCURACY_DROP, f"accuracy {text}", f"准确率 {text}"
    text = f"{got['cosine_mean']:.3f}"
    return got["cosine_mean"] >= MIN_COSINE, f"cosine {text}", f"余弦 {text}"


def _where(params: dict[str, int], lang: str) -> str:
    names = {"batch": "批大小", "seq_len": "序列长度", "image_size": "图像边长"} if lang == "zh" else {}
    return ", ".join(f"{names.get(k, k)} {v}" for k, v in params.items())


def _batch1(result: Any, name: str) -> tuple[float, dict[str, int]] | None:
    """The best median paired speedup over the batch-1 points, and where."""
    found = [
        (speedup(result, name, **e["params"]), e["params"])
        for e in result.points
        if e["params"]["batch"] == 1
    ]
    return max(found, key=lambda pair: pair[0]) if found else None


def _all_points(result: Any, name: str, lang: str) -> str:
    """Median paired speedup at every measured point: '1.05× (batch 1), 2.10× (batch 256)'."""
    parts = [(speedup(result, name, **e["params"]), _where(e["params"], lang)) for e in result.points]
    if lang == "zh":
        return ",".join(f"{figure:.2f}×({where})" for figure, where in parts)
    return ", ".join(f"{figure:.2f}× ({where})" for figure, where in parts)


def _count(n: float) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.0f}"


def _size(record: dict[str, Any]) -> tuple[str, str]:
    params, params_before = _count(record["nonzero_params"]), _count(record["params_unpruned"])
    flops, flops_before = _count(record["flops"]), _count(record["flops_unpruned"])
    return (
        f"non-zero params {params} (unpruned {params_before}), FLOPs {flops} (unpruned {flops_before})",
        f"非零参数 {params}(未修剪 {params_before}),FLOPs {flops}(未修剪 {flops_before})",
    )


def judge_t3(results: dict[str, Any]) -> Finding:
    best: tuple[dict[str, Any], str, str] | None = None  # paired speedup of the fastest qualifying variant
    en, zh = [], []
    sparse_en, sparse_zh, sparse_speed = [], [], []
    for exp in ("pruning/digits-cnn", "pruning/minilm", "pruning/resnet50"):
        result = results[exp]
        workload = result.config["workload"]
        for name, variant in result.variants.items():
            if name == result.config["baseline"]:
                continue
            record = variant["info"]
            smaller = (
                record["nonzero_params"] < record["params_unpruned"]
                or record["flops"] < record["flops_unpruned"]
            )
            at_b1 = _batch1(result, name)
            if at_b1 is None:
                continue
            figure = at_b1[0]
            size_en, size_zh = _size(record)
            all_en, all_zh = _all_points(result, name, "en"), _all_points(result, name, "zh")
            if workload == "resnet50":  # random weights: latency only, never a quality figure
                en.append(f"{workload} `{name}` {all_en} (random weights; {size_en})")
                zh.append(f"{workload} `{name}` {all_zh}(随机权重;{size_zh})")
                continue
            ok, q_en, q_zh = _within_bound(result, name)
            if record["method"] == "unstructured":
                sparse_speed.append(figure)
                sparse, dense = f"{record['model_sparse_mb']:.3g} MB", f"{record['model_mb']:.3g} MB"
                sparse_en.append(
                    f"{workload} `{name}` {figure:.2f}× ({q_en}; stored sparse {sparse}, dense {dense})"
                )
                sparse_zh.append(f"{workload} `{name}` {figure:.2f}×({q_zh};稀疏存储 {sparse},稠密 {dense})")
                continue
            mark_en, mark_zh = ("within", "满足") if ok else ("outside", "不满足")
            en.append(f"{workload} `{name}` {all_en} ({q_en}, {mark_en} the bound; {size_en})")
            zh.append(f"{workload} `{name}` {all_zh}({q_zh},{mark_zh}质量界限;{size_zh})")
            if ok and smaller:
                entry = speedup_entry(result, name, **at_b1[1])
                if best is None or entry["median"] > best[0]["median"]:
                    best = (
                        entry,
                        f"{workload} `{name}` ({_where(at_b1[1], 'en')})",
                        f"{workload} `{name}`({_where(at_b1[1], 'zh')})",
                    )
    if sparse_speed:
        span = f"{min(sparse_speed):.2f}×–{max(sparse_speed):.2f}×"
        en.append(
            f"unstructured variants at batch 1: {span}, with unchanged dense FLOPs: " + ", ".join(sparse_en)
        )
        zh.append(f"非结构化变体在批大小 1 时为 {span},稠密 FLOPs 不变:" + ",".join(sparse_zh))
    # The claim's point is "less compute, so faster": shrinking the parameter count alone is
    # true of every pruned model by construction and decides nothing.
    if best is None:
        outcome = "does-not-hold"
        decide_en, decide_zh = (
            "no structured variant stays within the quality bound",
            "没有结构化变体满足质量界限",
        )
    else:
        entry, where, where_zh = best
        side, faster = side_of(entry, MIN_SPEEDUP), side_of(entry, 1.0)
        # Whenever the interval straddles a threshold of the rule, the measurement cannot say
        # which side the claim falls on.
        outcome = (
            "holds"
            if side == "above"
            else "inconclusive"
            if "straddles" in (side, faster)
            else "partly"
            if faster == "above"
            else "does-not-hold"
        )
        decide_en = f"deciding: {where} {margin_text(entry, MIN_SPEEDUP)}"
        decide_zh = f"决定结论的是 {where_zh} {margin_text(entry, MIN_SPEEDUP, 'zh')}"
    return Finding(outcome, decide_en + "; " + "; ".join(en) + ".", decide_zh + ";" + ";".join(zh) + "。")


VERDICTS = [
    Verdict(
        claim="T3",
        experiments=("pruning/digits-cnn", "pruning/minilm", "pruning/resnet50"),
        rule=(
            "Take the structured variant (whole channels or neurons removed) with the highest median "
            "paired speedup over PyTorch eager at batch 1 on digits-cnn or MiniLM among those within the "
            f"quality bound (digits-cnn: test accuracy at most {MAX_ACCURACY_DROP * 100:.0f} percentage "
            f"point below eager; MiniLM: mean cosine to eager at least {MIN_COSINE}) and with fewer "
            f"non-zero parameters or FLOPs. Holds if its interval lies at or above {MIN_SPEEDUP}×; "
            "partly if it lies below that but above 1× (faster, not by as much); does not hold if it lies "
            "below 1×, or if no structured variant stays within the bound; inconclusive if the interval "
            f"straddles {MIN_SPEEDUP}× or 1×. Fewer parameters alone decide nothing: every pruned model has "
            "them. ResNet-50 (random weights) and unstructured variants are reported but do not decide; "
            "the evidence states the unstructured speedup."
        ),
        rule_zh=(
            "在 digits-cnn 或 MiniLM 上,从满足质量界限"
            f"(digits-cnn:测试准确率比 eager 低不超过 {MAX_ACCURACY_DROP * 100:.0f} 个百分点;"
            f"MiniLM:与 eager 的平均余弦相似度至少 {MIN_COSINE})且非零参数或 FLOPs 更少的结构化变体"
            "(删除整个通道或神经元)中,取批大小 1 时相对 PyTorch eager 成对加速比中位数最高的一个。"
            f"若其区间不低于 {MIN_SPEEDUP}×,则成立;区间低于它但高于 1×(更快,但幅度不够)则部分成立;"
            "区间低于 1×,或没有结构化变体满足质量界限,则不成立;"
            f"区间跨过 {MIN_SPEEDUP}× 或 1× 则在本机上无法判定。"
            "仅仅参数变少不能决定结论:每个修剪后的模型都是如此。"
            "ResNet-50(随机权重)和非结构化变体只作报告、不参与判定;证据中给出非结构化修剪的加速比。"
        ),
        judge=judge_t3,
    )
]
