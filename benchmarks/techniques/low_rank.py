"""Low-rank decomposition (article table row T4): fewer parameters, and what it does to arithmetic.

A weight matrix is replaced by the product of two thinner ones (truncated SVD,
for Linear layers), and a convolution by a 1x1 -> kxk -> 1x1 chain (Tucker-2,
over the output- and input-channel modes). Every variant records its ranks,
which layers were factorised, its parameters and its FLOPs next to the
original's, so the article's claim that "computational complexity increases"
is settled by counting, and its latency by the runner's paired timing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.engines import one_thread
from benchmarks.experiments import Experiment, VariantSpec, training_length
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER
from benchmarks.verdicts import Finding, Verdict, info, quality, speedups

# ---- the decompositions ---------------------------------------------------------------------


# --8<-- [start:svd]
def svd_factorize_linear(linear: Any, rank: int) -> Any:
    """``W ≈ U_r S_r V_r^T`` as two Linear layers: ``x -> (S_r^½ V_r^T) x -> (U_r S_r^½) · + b``.

    The singular values are split evenly between the two factors so that both
    are equally scaled, which keeps later fine-tuning well conditioned. The
    bias stays on the second layer, so at full rank the output is unchanged.
    """
    import torch
    from torch import nn

    full = min(linear.in_features, linear.out_features)
    if not 1 <= rank <= full:
        raise ValueError(f"rank must be in [1, {full}], not {rank}")
    with one_thread():
        u, s, vh = torch.linalg.svd(linear.weight.detach(), full_matrices=False)
    root = s[:rank].sqrt()
    first = nn.Linear(linear.in_features, rank, bias=False)
    second = nn.Linear(rank, linear.out_features, bias=linear.bias is not None)
    with torch.no_grad():
        first.weight.copy_(root[:, None] * vh[:rank])
        second.weight.copy_(u[:, :rank] * root)
        if linear.bias is not None:
            second.bias.copy_(linear.bias.detach())
    return nn.Sequential(first, second)


# --8<-- [end:svd]


# --8<-- [start:tucker]
def tucker_factorize_conv(conv: Any, ranks: tuple[int, int], n_iter_max: int = 5) -> Any:
    """Tucker-2 of a convolution: 1x1 (in -> r_in), kxk core (r_in -> r_out), 1x1 (r_out -> out).

    ``ranks`` is (r_out, r_in), the ranks of the weight's modes 0 (output
    channels) and 1 (input channels), found by tensorly's partial Tucker (HOSVD
    start, then ``n_iter_max`` HOOI sweeps) on those two modes; the spatial
    modes stay whole in the core.
    """
    import tensorly as tl
    import torch
    from tensorly.decomposition import partial_tucker

    chain = _tucker_shell(conv, ranks)
    first, middle, last = chain
    with one_thread(), tl.backend_context("pytorch"):
        weight = conv.weight.detach()
        (core, (out_factor, in_factor)), _ = partial_tucker(
            weight, rank=list(ranks), modes=[0, 1], init="svd", n_iter_max=n_iter_max, random_state=0
        )
    with torch.no_grad():
        first.weight.copy_(in_factor.T[:, :, None, None])
        middle.weight.copy_(core)
        last.weight.copy_(out_factor[:, :, None, None])
        if conv.bias is not None:
            last.bias.copy_(conv.bias.detach())
    return chain


def _tucker_shell(conv: Any, ranks: tuple[int, int]) -> Any:
    """The three convolutions that replace ``conv``, with the shapes the ranks give (weights unset)."""
    from torch import nn

    if conv.groups != 1:
        raise ValueError("Tucker-2 here needs an ungrouped convolution (groups=1)")
    rank_out, rank_in = ranks
    if not (1 <= rank_out <= conv.out_channels and 1 <= rank_in <= conv.in_channels):
        raise ValueError(f"ranks {ranks} outside [1, {conv.out_channels}] x [1, {conv.in_channels}]")
    return nn.Sequential(
        nn.Conv2d(conv.in_channels, rank_in, 1, bias=False),
        nn.Conv2d(
            rank_in,
            rank_out,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            bias=False,
            padding_mode=conv.padding_mode,
        ),
        nn.Conv2d(rank_out, conv.out_channels, 1, bias=conv.bias is not None),
    )


# --8<-- [end:tucker]


def _rank_of(fraction: float, full: int) -> int:
    return max(1, min(full, round(fraction * full)))


# --8<-- [start:factorize]
def _replace_linears(
    model: Any, rank_fraction: float, name_filter: Callable[[str], bool] | None = None
) -> dict[str, int]:
    """Factorise in place; returns {layer name: rank} of the layers replaced."""
    from torch import nn

    chosen = {}
    for name, module in list(model.named_modules()):
        if not isinstance(module, nn.Linear) or (name_filter is not None and not name_filter(name)):
            continue
        rank = _rank_of(rank_fraction, min(module.in_features, module.out_features))
        # Only where it pays: two factors of rank r hold r * (in + out) weights.
        if rank * (module.in_features + module.out_features) < module.in_features * module.out_features:
            chosen[name] = rank
    for name, rank in chosen.items():
        model.set_submodule(name, svd_factorize_linear(model.get_submodule(name), rank))
    return chosen


def factorize_model_linears(
    model: Any, rank_fraction: float, name_filter: Callable[[str], bool] | None = None
) -> Any:
    """Replace each chosen Linear by its rank ``rank_fraction * min(in, out)`` SVD factors.

    A layer is chosen when ``name_filter(name)`` is true (every Linear when it is
    None) and the factors hold fewer weights than the layer: at fraction 0.5 a
    square layer would break even, so it is left alone.
    """
    _replace_linears(model, rank_fraction, name_filter)
    return model


# --8<-- [end:factorize]


def _conv_ranks(
    model: Any, rank_ratio: float, name_filter: Callable[[str], bool] | None = None
) -> dict[str, list[int]]:
    """{name: [r_out, r_in]} for each chosen ungrouped kxk Conv2d (k > 1)."""
    from torch import nn

    return {
        name: [_rank_of(rank_ratio, module.out_channels), _rank_of(rank_ratio, module.in_channels)]
        for name, module in model.named_modules()
        if isinstance(module, nn.Conv2d)
        and module.kernel_size != (1, 1)
        and module.groups == 1
        and (name_filter is None or name_filter(name))
    }


def factorize_model_convs(
    model: Any, rank_ratio: float, name_filter: Callable[[str], bool] | None = None, n_iter_max: int = 5
) -> dict[str, list[int]]:
    """Tucker-2 of each chosen kxk Conv2d in place, ranks ``rank_ratio`` of its channels."""
    chosen = _conv_ranks(model, rank_ratio, name_filter)
    for name, ranks in chosen.items():
        conv = model.get_submodule(name)
        model.set_submodule(name, tucker_factorize_conv(conv, tuple(ranks), n_iter_max=n_iter_max))
    return chosen


# ---- fine-tuning ------------------------------------------------------------------------------


# --8<-- [start:finetune-digits]
def finetune_digits(model: Any, epochs: int, lr: float, seed: int) -> dict[str, float]:
    """Fine-tune every weight on the digits TRAINING split only (the test split is never seen)."""
    import torch

    from benchmarks.workloads import digits_cnn

    torch.manual_seed(seed)
    x_train, _, y_train, _ = digits_cnn.dataset()
    xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
    # Steps this small gain nothing from a second thread, and lose much when cores are shared.
    with one_thread():
        finetune_s = digits_cnn.fit(model, xs, ys, epochs=epochs, lr=lr, seed=seed)
    return {"finetune_s": finetune_s, "epochs": epochs, "train_images": len(xs)}


# --8<-- [end:finetune-digits]


# --8<-- [start:distill-minilm]
def distill_minilm(
    student: Any,
    teacher: Any,
    texts: list[str],
    trainable: list[str],
    steps: int,
    lr: float,
    batch: int,
    seed: int,
) -> dict[str, float]:
    """Pull the student's embeddings towards the original model's on a TRAINING corpus.

    The loss is 1 - cosine between the two unit-length sentence embeddings;
    only the factorised layers named in ``trainable`` learn, the rest of the
    encoder stays as it was.
    """
    import torch

    from benchmarks.workloads import minilm

    torch.manual_seed(seed)
    tokenizer = minilm.tokenizer()
    generator = torch.Generator().manual_seed(seed)
    factors = [p for name in trainable for p in student.get_submodule(name).parameters()]
    for p in student.parameters():
        p.requires_grad_(False)
    for p in factors:
        p.requires_grad_(True)
    optimiser = torch.optim.Adam(factors, lr=lr)
    # Dropout stays off (eval mode): the student matches the teacher's deterministic embeddings.
    student.eval()
    start = time.perf_counter()
    with one_thread():
        for _ in range(steps):
            idx = torch.randint(len(texts), (batch,), generator=generator).tolist()
            tokens = tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=64, return_tensors="pt"
            )
            inputs = {"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}
            with torch.no_grad():
                target = teacher(**inputs)
            loss = 1.0 - torch.nn.functional.cosine_similarity(student(**inputs), target).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    for p in student.parameters():
        p.requires_grad_(True)
    return {"finetune_s": time.perf_counter() - start, "final_loss": float(loss.detach()), "steps": steps}


# --8<-- [end:distill-minilm]


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


def _cached(
    name: str, key: dict[str, Any], model: Any, compute: Callable[[], dict], reshape: Callable[[], None]
) -> dict[str, Any]:
    """Run ``compute()`` (which changes ``model`` in place) once per key; later runs load its weights.

    ``reshape()`` gives ``model`` the factorised structure before cached weights
    are loaded. The record of what computing cost (seconds) is cached with them.
    """
    import torch

    from benchmarks.workloads import cache_dir

    key = {**key, "source": Path(__file__).read_text(), "torch": torch.__version__}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = cache_dir() / "models" / f"{name}-{digest}.pt"
    if path.exists():
        try:
            checkpoint = torch.load(path, weights_only=True)
            reshape()
            model.load_state_dict(checkpoint["state_dict"])
            return {**checkpoint["record"], "cached": True}
        except Exception as exc:  # a truncated or foreign file: compute again rather than fail
            print(f"warning: ignoring unreadable cached weights {path} ({type(exc).__name__})")
            path.unlink(missing_ok=True)
    record = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save({"state_dict": model.state_dict(), "record": record}, tmp)
    os.replace(tmp, path)
    return {**record, "cached": False}


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

    from benchmarks.engines import torch_variant

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    start = time.perf_counter()
    model = workload.torch_model()
    load_s = time.perf_counter() - start
    inputs = workload.timing_inputs(MINILM_FLOPS_POINT)
    original = _original_stats(model, inputs)
    targets, fraction = options["targets"], options["rank_fraction"]
    start = time.perf_counter()
    ranks = _replace_linears(model, fraction, MINILM_TARGETS[targets])
    costs = {"load_s": load_s, "decompose_s": time.perf_counter() - start}
    if not ranks:
        raise ValueError(f"rank fraction {fraction} reduces no {targets} layer's parameters")
    extra: dict[str, Any] = {}
    if options.get("distill"):
        settings = {**options["distill"], "steps": training_length(options["distill"]["steps"])}
        record = _distilled_minilm(workload, model, settings, sorted(ranks), fraction)
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
    workload: ModuleType, model: Any, settings: dict, layers: list[str], fraction: float
) -> dict[str, Any]:
    """Distil ``model`` in place, or load what an earlier run distilled from the same inputs."""
    from benchmarks.workloads import minilm_corpus

    texts = minilm_corpus.train_texts()

    def compute() -> dict[str, Any]:
        teacher = workload.torch_model()
        return {**distill_minilm(model, teacher, texts, layers, **settings), "train_texts": len(texts)}

    key = {
        "corpus": hashlib.sha256("\n".join(texts).encode()).hexdigest(),
        "model": workload.MODEL_SHA256,
        "settings": settings,
        "layers": layers,
        "fraction": fraction,
    }
    return _cached("minilm_low_rank", key, model, compute, reshape=lambda: None)


DIGITS_FLOPS_POINT = {"batch": 1}
DIGITS_DENSE = "classifier.1"  # the first dense layer, 512 -> 64
DIGITS_CONV = "features.2"  # the second convolution, 16 -> 32 channels, 3x3


def build_digits_low_rank(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Any:
    """The digits CNN with its first dense layer SVD-factorised and/or its second conv Tucker-factorised."""
    import torch

    from benchmarks.engines import torch_variant

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
        finetune = finetune_digits(model, options["finetune_epochs"], options["finetune_lr"], seed=0)
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
    import tensorly
    import torch

    from benchmarks.engines import torch_variant

    torch.set_num_threads(threads)
    model = workload.torch_model()
    inputs = workload.timing_inputs(RESNET_FLOPS_POINT)
    original = _original_stats(model, inputs)
    ratio, sweeps = options["rank_ratio"], options["hooi_sweeps"]
    chosen = _conv_ranks(model, ratio, _is_bottleneck_3x3)

    def compute() -> dict[str, Any]:
        start = time.perf_counter()
        factorize_model_convs(model, ratio, _is_bottleneck_3x3, n_iter_max=sweeps)
        return {"decompose_s": time.perf_counter() - start}

    def reshape() -> None:
        for name, ranks in chosen.items():
            model.set_submodule(name, _tucker_shell(model.get_submodule(name), tuple(ranks)))

    key = {
        "workload": Path(workload.__file__).read_text(),
        "options": options,
        "tensorly": tensorly.__version__,
    }
    record = _cached("resnet50_tucker", key, model, compute, reshape)
    return torch_variant(
        model,
        {"decompose_s": record["decompose_s"]},
        method="Tucker-2 of 3x3 convolutions",
        rank_ratio=ratio,
        hooi_sweeps=sweeps,
        layers_factorised=chosen,
        decomposition_cached=record["cached"],
        weights="random (fidelity only)",
        **_flops_record(model, original, inputs, RESNET_FLOPS_POINT),
    )


def _is_bottleneck_3x3(name: str) -> bool:
    return name.endswith("conv2")


def tensorly_missing() -> str | None:
    """Why Tucker variants cannot run here, or None."""
    if importlib.util.find_spec("tensorly") is None:
        return "tensorly is not installed (needed for the Tucker decomposition); run `make install`"
    return None


# ---- experiments ----------------------------------------------------------------------------

_MODULE = "benchmarks.techniques.low_rank"
MINILM_DISTILL = {"steps": 40, "lr": 3e-4, "batch": 8, "seed": 0}


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


DIGITS_FT = {"finetune_epochs": 5, "finetune_lr": 1e-3}

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
        requires=f"{_MODULE}:tensorly_missing",
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
        requires=f"{_MODULE}:tensorly_missing",
    ),
]


# ---- the verdict ----------------------------------------------------------------------------

SLOWER_THAN = 0.95  # a speedup below this counts as measurably slower than the original
QUALITY_KEY = {"digits-cnn": "accuracy", "minilm": "cosine_mean", "resnet50": "cosine_mean"}


def _point_text(params: dict[str, int], zh: bool) -> str:
    names = {"batch": "批", "seq_len": "序列", "image_size": "图像"} if zh else {}
    names = {"batch": "batch", "seq_len": "seq", "image_size": "image", **names}
    return ", ".join(f"{names.get(k, k)} {v}" for k, v in params.items())


def _quality_text(workload: str, value: float, original: float, zh: bool) -> str:
    if workload == "digits-cnn":
        return (
            f"准确率 {value:.1%}(原模型 {original:.1%})"
            if zh
            else f"accuracy {value:.1%} (original {original:.1%})"
        )
    text = f"余弦 {value:.4f}" if zh else f"cosine {value:.4f}"
    if workload == "resnet50":
        text += "(随机权重)" if zh else " (random weights)"
    return text


def judge_complexity(results: dict[str, Any]) -> Finding:
    """T4: FLOPs ratio and paired speedup of every factorised variant, with its quality alongside."""
    rows = []
    for name in LOW_RANK_EXPERIMENTS:
        result = results[name]
        workload = result.config["workload"]
        baseline = result.config["baseline"]
        key = QUALITY_KEY[workload]
        original_quality = quality(result, baseline)[key]
        for variant in result.variants:
            if variant in (baseline, "_error"):
                continue
            record = info(result, variant)
            measured = speedups(result, variant)
            slowest = min(measured, key=lambda pair: pair[1])
            rows.append(
                {
                    "experiment": name,
                    "variant": variant,
                    "workload": workload,
                    "flops_ratio": record["flops_ratio"],
                    "params_ratio": record["params_ratio"],
                    "speedup_min": slowest[1],
                    "slowest_at": slowest[0],
                    "speedup_max": max(value for _, value in measured),
                    "quality": quality(result, variant)[key],
                    "original_quality": original_quality,
                }
            )
    if not rows:
        return Finding("not-measurable", "no factorised variant was measured", "没有测得任何分解变体")
    fewer = [r for r in rows if r["flops_ratio"] < 1]
    more = [r for r in rows if r["flops_ratio"] > 1]
    slower = [r for r in rows if r["speedup_min"] < SLOWER_THAN]
    if len(more) * 2 >= len(rows):
        outcome = "holds"
    elif len(fewer) == len(rows) and not slower:
        outcome = "does-not-hold"
    else:
        outcome = "partly"
    low = min(r["flops_ratio"] for r in rows)
    high = max(r["flops_ratio"] for r in rows)
    worst = min(rows, key=lambda r: r["speedup_min"])
    worst_en, worst_zh = _point_text(worst["slowest_at"], False), _point_text(worst["slowest_at"], True)
    en = (
        f"{len(fewer)} of {len(rows)} factorised variants need fewer FLOPs than the original "
        f"(FLOPs ratio {low:.2f} to {high:.2f}); {len(slower)} of them run more than "
        f"{1 - SLOWER_THAN:.0%} slower than the original at some point. Lowest speedup: "
        f"{worst['speedup_min']:.2f}× (`{worst['variant']}` in `{worst['experiment']}`, {worst_en})."
    )
    zh = (
        f"{len(rows)} 个分解变体中有 {len(fewer)} 个的 FLOPs 少于原模型"
        f"(FLOPs 比 {low:.2f} 至 {high:.2f});其中 {len(slower)} 个在某个测量点"
        f"比原模型慢 {1 - SLOWER_THAN:.0%} 以上。最低加速比:{worst['speedup_min']:.2f}×"
        f"(`{worst['experiment']}` 的 `{worst['variant']}`,{worst_zh})。"
    )
    header_en = "| experiment | variant | params | FLOPs | speedup | quality |"
    header_zh = "| 实验 | 变体 | 参数量 | FLOPs | 加速比 | 质量 |"
    lines_en, lines_zh = [header_en, "|---|---|---|---|---|---|"], [header_zh, "|---|---|---|---|---|---|"]
    for r in rows:
        cells = (
            f"| `{r['experiment']}` | `{r['variant']}` | ×{r['params_ratio']:.2f} | ×{r['flops_ratio']:.2f} "
            f"| {r['speedup_min']:.2f}–{r['speedup_max']:.2f}× |"
        )
        lines_en.append(
            f"{cells} {_quality_text(r['workload'], r['quality'], r['original_quality'], False)} |"
        )
        lines_zh.append(
            f"{cells} {_quality_text(r['workload'], r['quality'], r['original_quality'], True)} |"
        )
    note_en = (
        "Params and FLOPs are ratios to the original model (FLOPs at batch 1); "
        "speedup is the range of median paired speedups over the measured points."
    )
    note_zh = (
        "参数量与 FLOPs 为相对原模型的比值(FLOPs 按批大小 1 计);加速比为各测量点配对加速比中位数的范围。"
    )
    return Finding(
        outcome,
        en + "\n\n" + "\n".join(lines_en) + "\n\n" + note_en,
        zh + "\n\n" + "\n".join(lines_zh) + "\n\n" + note_zh,
    )


LOW_RANK_EXPERIMENTS = ("low-rank/minilm", "low-rank/digits-cnn", "low-rank/resnet50")

VERDICTS = [
    Verdict(
        claim="T4",
        experiments=LOW_RANK_EXPERIMENTS,
        rule=(
            "For every factorised variant of the three low-rank experiments, the FLOPs ratio is the "
            "factorised model's FLOPs over the original's, counted by PyTorch's FLOP counter at batch 1 "
            "(MiniLM: 128 tokens; ResNet-50: 224×224), and its speedup is the median paired speedup over "
            "PyTorch eager at each measured point. The claim that computational complexity increases "
            "**holds** if at least half of the variants have a FLOPs ratio above 1; it **does not hold** if "
            "every variant has a FLOPs ratio below 1 and none is slower than the original by more than 5% "
            "(speedup below 0.95) at any point; otherwise it **partly holds**. Parameters and quality "
            "(digits test accuracy; MiniLM and ResNet-50 cosine to the original's outputs, ResNet-50 with "
            "random weights) are stated next to each variant."
        ),
        rule_zh=(
            "对三个低秩实验中的每个分解变体:FLOPs 比 = 分解后模型的 FLOPs ÷ 原模型的 FLOPs,"
            "用 PyTorch 的 FLOP 计数器在批大小 1 下统计(MiniLM:128 个词元;ResNet-50:224×224);"
            "加速比为各测量点上相对 PyTorch eager 的配对加速比中位数。若至少一半变体的 FLOPs 比大于 1,"
            "「计算复杂度增加」**成立**;若所有变体的 FLOPs 比都小于 1,"
            "且没有任何变体在任何测量点比原模型慢 5% 以上(加速比低于 0.95),则**不成立**;"
            "其余情况为**部分成立**。每个变体旁同时列出参数量与质量"
            "(手写数字测试准确率;MiniLM 与 ResNet-50 为与原模型输出的余弦相似度,ResNet-50 为随机权重)。"
        ),
        judge=judge_complexity,
    )
]
