"""Knowledge distillation (article table row T5): a compact student trained to imitate a large teacher.

Two students are measured against their teachers, each next to a control of the
same size trained with the same budget but without the teacher:

* digits CNN: the workload's trained CNN is the teacher; narrower CNNs are
  trained on the digits TRAIN split with Hinton's loss (softened teacher
  probabilities plus the true labels), and the same CNNs with labels only;
* MiniLM-L6: a 3-layer copy of the encoder is trained to reproduce the 6-layer
  teacher's sentence embeddings on a training corpus disjoint from the
  evaluation sentences, against the same 3-layer copy left untrained.

Training time, including the teacher's forward passes, is recorded as a
one-time cost: the article's "extra training step".

Top-level imports stay light: torch and transformers load inside functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.experiments import Experiment, VariantSpec, training_length
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER
from benchmarks.verdicts import Finding, Verdict, info, quality, speedup

SEED = 0
# Where FLOPs are counted: one request at the workload's standard size.
FLOPS_POINT = {"digits-cnn": {"batch": 1}, "minilm": {"batch": 1, "seq_len": 128}}


# --8<-- [start:loss]
def distillation_loss(
    student_logits: Any, teacher_logits: Any, labels: Any, temperature: float, alpha: float
):
    """Hinton et al.'s loss, ``alpha * T^2 * KL(p_teacher || p_student) + (1 - alpha) * CE(student, labels)``.

    ``p = softmax(logits / T)``: a temperature ``T > 1`` softens both
    distributions so that the teacher's ranking of the wrong classes (which
    "7" looks most like a "1") reaches the student. The ``T^2`` factor keeps the
    soft term's gradients on the same scale as the hard term's when ``T``
    changes. The KL divergence is averaged over the batch. With ``alpha = 0``
    the loss is exactly the cross-entropy with the true labels.
    """
    import torch.nn.functional as F

    hard = F.cross_entropy(student_logits, labels)
    if alpha == 0:
        return hard
    soft = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=-1),
        F.log_softmax(teacher_logits / temperature, dim=-1),
        reduction="batchmean",
        log_target=True,
    )
    return alpha * temperature**2 * soft + (1 - alpha) * hard


# --8<-- [end:loss]


# --8<-- [start:digits]
def train_digits_student(
    teacher: Any | None = None,
    width: int = 4,
    hidden: int = 32,
    epochs: int = 20,
    temperature: float = 4.0,
    alpha: float = 0.9,
    seed: int = SEED,
) -> tuple[Any, float]:
    """Train a narrow digits CNN on the TRAIN split; returns the model and the seconds it took.

    With a ``teacher`` the loss is ``distillation_loss`` on the teacher's logits
    for the same images (computed once, inside the timed span). With
    ``teacher=None`` it is the label-only control: the same architecture, seed,
    optimiser, batches and epochs, trained with cross-entropy alone.
    """
    import torch

    from benchmarks.workloads import digits_cnn

    settings = digits_cnn.SETTINGS
    torch.manual_seed(seed)
    x_train, _, y_train, _ = digits_cnn.dataset()
    xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
    student = digits_cnn.build_model(width, hidden)
    optimiser = torch.optim.AdamW(student.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    if teacher is not None:
        teacher.eval()
        with torch.no_grad():  # not inference_mode: its tensors cannot take part in a backward pass
            soft_targets = teacher(xs)  # the teacher's logits for every training image
    student.train()
    for _ in range(epochs):
        order = torch.randperm(len(xs), generator=generator)
        for i in range(0, len(xs), settings.batch_size):
            idx = order[i : i + settings.batch_size]
            logits = student(xs[idx])
            if teacher is None:
                loss = torch.nn.functional.cross_entropy(logits, ys[idx])
            else:
                loss = distillation_loss(logits, soft_targets[idx], ys[idx], temperature, alpha)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    student.eval()
    return student, time.perf_counter() - start


# --8<-- [end:digits]


# --8<-- [start:truncate]
def truncated_minilm(teacher: Any, layers: tuple[int, ...]) -> Any:
    """A copy of the sentence encoder that keeps only the transformer layers ``layers`` (in order).

    Embeddings, mean pooling and normalisation are the teacher's, so the student
    takes the same ``(input_ids, attention_mask)`` and returns unit vectors of
    the same size.
    """
    import copy

    import torch

    student = copy.deepcopy(teacher)
    bert = student.encoder
    bert.encoder.layer = torch.nn.ModuleList([bert.encoder.layer[i] for i in layers])
    bert.config.num_hidden_layers = len(layers)
    return student.eval()


# --8<-- [end:truncate]


def _tokenize(texts: list[str], batch: int, max_length: int) -> list[dict[str, Any]]:
    """Length-sorted batches (little padding), each as the encoder's inputs."""
    from benchmarks.workloads import minilm

    tokenizer = minilm.tokenizer()
    ordered = sorted(texts, key=len)
    batches = []
    for i in range(0, len(ordered), batch):
        tokens = tokenizer(
            ordered[i : i + batch], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        batches.append({"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]})
    return batches


# --8<-- [start:minilm]
def distil_minilm_student(
    student: Any,
    teacher: Any,
    texts: list[str],
    epochs: int,
    batch: int,
    lr: float,
    max_length: int,
    seed: int,
) -> tuple[Any, dict[str, float]]:
    """Train ``student`` to reproduce ``teacher``'s normalised sentence embeddings (cosine loss).

    ``texts`` is the training corpus, never the evaluation set. The teacher
    embeds every sentence once; then the student's transformer layers are
    trained for ``epochs`` passes. The embedding tables stay frozen (they are
    the teacher's own), and dropout stays off so that the run is deterministic.
    Returns the student and the seconds spent on each of the two steps.
    """
    import torch

    torch.manual_seed(seed)
    start = time.perf_counter()
    batches = _tokenize(texts, batch, max_length)
    teacher.eval()
    with torch.no_grad():  # not inference_mode: its tensors cannot take part in a backward pass
        targets = [teacher(**inputs) for inputs in batches]
    teacher_s = time.perf_counter() - start

    start = time.perf_counter()
    for parameter in student.encoder.embeddings.parameters():
        parameter.requires_grad_(False)
    trained = [p for p in student.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=lr, weight_decay=0.0)
    generator = torch.Generator().manual_seed(seed)
    student.eval()  # no dropout
    for _ in range(epochs):
        for k in torch.randperm(len(batches), generator=generator).tolist():
            embeddings = student(**batches[k])
            loss = (1 - (embeddings * targets[k]).sum(dim=-1)).mean()  # both are unit vectors
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    for parameter in student.parameters():
        parameter.requires_grad_(True)
    return student.eval(), {"teacher_embed_s": teacher_s, "distil_s": time.perf_counter() - start}


# --8<-- [end:minilm]


# --8<-- [start:settings]
# Layers 0, 3 and 5 of the 6: the first layer (closest to the embeddings) and the last
# (whose output space the teacher's embeddings live in) are kept, with one from the middle.
STUDENT_LAYERS = (0, 3, 5)
# epochs: the `full` profile's; `default` runs the share its training_scale says.
MINILM_DISTIL = {"epochs": 2, "batch": 32, "lr": 2e-4, "max_length": 64, "seed": SEED}
# Half the teacher's 40 epochs, so that four students train within the build's time budget.
DIGITS_DISTIL = {"epochs": 20, "temperature": 4.0, "alpha": 0.9, "seed": SEED}
# --8<-- [end:settings]


def _minilm_settings() -> dict[str, Any]:
    return {**MINILM_DISTIL, "epochs": training_length(MINILM_DISTIL["epochs"])}


def _minilm_cache_path(layers: tuple[int, ...]) -> Path:
    import torch
    import transformers

    from benchmarks.workloads import cache_dir, minilm, minilm_corpus

    key = json.dumps(
        {
            "source": Path(__file__).read_text(encoding="utf-8"),
            "corpus": minilm_corpus.TRAIN_TEXT.read_text(encoding="utf-8"),
            "model": minilm.MODEL_SHA256,
            "layers": list(layers),
            "settings": _minilm_settings(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
        sort_keys=True,
    )
    return cache_dir() / "models" / f"minilm_student-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"


def _distilled_minilm(student: Any, teacher: Any, layers: tuple[int, ...]) -> tuple[Any, dict, bool]:
    """The distilled student, from the cache when this code, corpus, settings and versions trained it."""
    import torch

    from benchmarks.workloads import minilm_corpus

    path = _minilm_cache_path(layers)
    layer_stack = student.encoder.encoder.layer  # only these weights change; the rest is the teacher's
    if path.exists():
        try:
            checkpoint = torch.load(path, weights_only=True)
            layer_stack.load_state_dict(checkpoint["layers"])
            return student.eval(), dict(checkpoint["costs"]), True
        except Exception as exc:  # a truncated or foreign file: train again rather than fail
            print(
                f"warning: ignoring unreadable cached student {path} ({type(exc).__name__}); training again"
            )
    student, costs = distil_minilm_student(
        student, teacher, minilm_corpus.train_texts(), **_minilm_settings()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save({"layers": layer_stack.state_dict(), "costs": costs}, tmp)
    os.replace(tmp, path)
    return student, costs, False


# Training runs on one thread. The runner builds all variants of an experiment at the same
# time, each worker with all cores; a training loop of many small operations that shares the
# cores with them spends more time synchronising its threads than computing.
TRAIN_THREADS = 1


@contextlib.contextmanager
def _threads(count: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _size(model: Any, inputs: dict) -> tuple[int, int]:
    from benchmarks.model_stats import count_flops

    return sum(p.numel() for p in model.parameters()), count_flops(model, inputs)


def build_digits_student(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """A narrow digits CNN, distilled from the workload's trained CNN or trained on labels only."""
    import torch

    from benchmarks.engines import torch_variant
    from benchmarks.workloads import digits_cnn

    torch.set_num_threads(threads)
    settings = {**DIGITS_DISTIL, **options.get("settings", {})}
    distil = bool(options["distil"])
    teacher = workload.torch_model()
    flops_inputs = workload.timing_inputs(FLOPS_POINT[workload.NAME])
    teacher_params, teacher_flops = _size(teacher, flops_inputs)
    with _threads(TRAIN_THREADS):
        student, train_s = train_digits_student(
            teacher if distil else None,
            options["width"],
            options["hidden"],
            settings["epochs"],
            settings["temperature"],
            settings["alpha"],
            settings["seed"],
        )
    params, flops = _size(student, flops_inputs)
    method = {
        "method": "knowledge distillation" if distil else "labels only (control)",
        "epochs": settings["epochs"],
        "train_split_only": True,
        "train_threads": TRAIN_THREADS,
    }
    if distil:
        method |= {"temperature": settings["temperature"], "alpha": settings["alpha"]}
    return torch_variant(
        student,
        {"train_s": train_s},
        **method,
        width=options["width"],
        hidden=options["hidden"],
        teacher_width=digits_cnn.SETTINGS.width,
        teacher_hidden=digits_cnn.SETTINGS.hidden,
        flops=flops,
        flops_point=FLOPS_POINT[workload.NAME],
        teacher_params=teacher_params,
        teacher_flops=teacher_flops,
        params_k=params / 1e3,
        teacher_params_k=teacher_params / 1e3,
        mflops=flops / 1e6,
        teacher_mflops=teacher_flops / 1e6,
        params_fraction=params / teacher_params,
        flops_fraction=flops / teacher_flops,
    )


def build_minilm_student(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """A 3-layer copy of MiniLM-L6, distilled on the training corpus or left as copied (control)."""
    import torch

    from benchmarks.engines import torch_variant
    from benchmarks.workloads import minilm_corpus

    torch.set_num_threads(threads)
    layers = tuple(options.get("layers", STUDENT_LAYERS))
    distil = bool(options["distil"])
    teacher = workload.torch_model()
    flops_inputs = workload.timing_inputs(FLOPS_POINT[workload.NAME])
    teacher_params, teacher_flops = _size(teacher, flops_inputs)
    start = time.perf_counter()
    student = truncated_minilm(teacher, layers)
    costs: dict[str, float] = {"truncate_s": time.perf_counter() - start}
    extra: dict[str, Any] = {"method": "truncated copy, no training (control)"}
    if distil:
        with _threads(TRAIN_THREADS):
            student, train_costs, cached = _distilled_minilm(student, teacher, layers)
        costs |= train_costs
        extra = {
            "method": "knowledge distillation (cosine loss on sentence embeddings)",
            "distil_cached": cached,
            "train_threads": TRAIN_THREADS,
            "distil_corpus": "minilm_train.txt",
            "distil_corpus_sentences": len(minilm_corpus.train_texts()),
            **{f"distil_{k}": v for k, v in _minilm_settings().items()},
        }
    del teacher
    params, flops = _size(student, flops_inputs)
    return torch_variant(
        student,
        costs,
        **extra,
        layers_kept=list(layers),
        num_layers=len(layers),
        teacher_layers=6,
        hidden_size=student.encoder.config.hidden_size,
        flops=flops,
        flops_point=FLOPS_POINT[workload.NAME],
        teacher_params=teacher_params,
        teacher_flops=teacher_flops,
        params_m=params / 1e6,
        teacher_params_m=teacher_params / 1e6,
        gflops=flops / 1e9,
        teacher_gflops=teacher_flops / 1e9,
        params_fraction=params / teacher_params,
        flops_fraction=flops / teacher_flops,
    )


def _digits(name: str, label: str, label_zh: str, **options: Any) -> VariantSpec:
    return VariantSpec(
        name, label, label_zh, "benchmarks.techniques.distillation:build_digits_student", options
    )


def _minilm(name: str, label: str, label_zh: str, **options: Any) -> VariantSpec:
    return VariantSpec(
        name, label, label_zh, "benchmarks.techniques.distillation:build_minilm_student", options
    )


DIGITS_VARIANTS = (
    PYTORCH_EAGER,
    _digits(
        "student-w4-distilled",
        "Student (width 4, hidden 32), distilled",
        "学生模型(宽 4,隐层 32),蒸馏",
        width=4,
        hidden=32,
        distil=True,
    ),
    _digits(
        "student-w4-labels",
        "Student (width 4, hidden 32), labels only",
        "学生模型(宽 4,隐层 32),仅用标签",
        width=4,
        hidden=32,
        distil=False,
    ),
    _digits(
        "student-w2-distilled",
        "Student (width 2, hidden 16), distilled",
        "学生模型(宽 2,隐层 16),蒸馏",
        width=2,
        hidden=16,
        distil=True,
    ),
    _digits(
        "student-w2-labels",
        "Student (width 2, hidden 16), labels only",
        "学生模型(宽 2,隐层 16),仅用标签",
        width=2,
        hidden=16,
        distil=False,
    ),
)

MINILM_VARIANTS = (
    PYTORCH_EAGER,
    _minilm(
        "student-3l-distilled",
        "3-layer student (layers 0, 3, 5), distilled",
        "3 层学生模型(第 0、3、5 层),蒸馏",
        distil=True,
    ),
    _minilm(
        "student-3l-copy",
        "3-layer copy (layers 0, 3, 5), no training",
        "3 层副本(第 0、3、5 层),不训练",
        distil=False,
    ),
)

EXPERIMENTS = [
    Experiment(
        name="distillation/digits-cnn",
        technique="distillation",
        workload="digits-cnn",
        variants=DIGITS_VARIANTS,
        grids={
            "toy": ({"batch": 1}, {"batch": 8}),
            "default": ({"batch": 1}, {"batch": 256}),
            "full": ({"batch": 1}, {"batch": 32}, {"batch": 256}),
        },
    ),
    Experiment(
        name="distillation/minilm",
        technique="distillation",
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
]


# ---- the article's claim -------------------------------------------------------------------

SPEEDUP_BAR = 1.5
ACCURACY_DROP_MAX = 0.01
COSINE_MIN = 0.90
POINT_ZH = {"batch": "批大小", "seq_len": "序列长度"}
# (experiment, distilled student, control, teacher) judged by the rule.
JUDGED = (
    ("distillation/digits-cnn", "student-w4-distilled", "student-w4-labels", "pytorch-eager"),
    ("distillation/minilm", "student-3l-distilled", "student-3l-copy", "pytorch-eager"),
)


def _training_s(result: Any, variant: str) -> float:
    costs = result.one_time_costs.get(variant, {})
    return sum(v for k, v in costs.items() if k in ("train_s", "teacher_embed_s", "distil_s"))


# The other compression methods of the article's table, measured on the same workloads and points:
# the article says distillation's gain "may not match" theirs (claim T5's drawback).
OTHER_COMPRESSION = {
    "digits-cnn": ("pruning/digits-cnn", "low-rank/digits-cnn"),
    "minilm": ("pruning/minilm", "low-rank/minilm"),
}


def _keeps(result: Any, variant: str, teacher: str) -> bool:
    """The quality part of the rule, (b), for any variant against its experiment's teacher."""
    got, base = quality(result, variant), quality(result, teacher)
    if result.config["workload"] == "digits-cnn":
        return got["accuracy"] >= base["accuracy"] - ACCURACY_DROP_MAX
    return got["cosine_mean"] >= COSINE_MIN


def _best_other(results: dict[str, Any], workload: str, params: dict[str, int]) -> tuple[float, str] | None:
    """The fastest pruned or factorised variant that keeps quality by (b), at the same point."""
    best = None
    for exp in OTHER_COMPRESSION[workload]:
        other = results[exp]
        for name in other.variants:
            if name == other.config["baseline"] or not _keeps(other, name, other.config["baseline"]):
                continue
            try:
                figure = speedup(other, name, **params)
            except KeyError:  # not measured at this point
                continue
            if best is None or figure > best[0]:
                best = (figure, f"{exp} `{name}`")
    return best


def _judge_one(
    results: dict[str, Any], exp: str, student: str, control: str, teacher: str
) -> tuple[dict[str, bool], str, str]:
    result = results[exp]
    largest = result.points[-1]["params"]
    fast = speedup(result, student, **largest)
    where = ", ".join(f"{k} {v}" for k, v in largest.items())
    where_zh = ",".join(f"{POINT_ZH.get(k, k)} {v}" for k, v in largest.items())
    trained = _training_s(result, student)
    cached = info(result, student).get("distil_cached", False)
    cached_en = " (recorded when the cached student was trained)" if cached else ""
    cached_zh = "(缓存的学生模型训练时记录)" if cached else ""
    workload = result.config["workload"]
    keeps = _keeps(result, student, teacher)
    if workload == "digits-cnn":
        s, c, t = (quality(result, v)["accuracy"] for v in (student, control, teacher))
        beats = s > c
        figures_en = f"test accuracy {s:.2%} (teacher {t:.2%}, label-only control {c:.2%})"
        figures_zh = f"测试准确率 {s:.2%}(教师 {t:.2%},仅用标签的对照 {c:.2%})"
        name_en, name_zh = "Digits CNN", "Digits CNN"
    else:
        s = quality(result, student)["cosine_mean"]
        s_map, c_map, t_map = (quality(result, v)["topic_map"] for v in (student, control, teacher))
        beats = s_map > c_map
        figures_en = (
            f"mean cosine to the teacher {s:.4f}; topic retrieval MAP {s_map:.3f} "
            f"(teacher {t_map:.3f}, the same layers copied without training {c_map:.3f})"
        )
        figures_zh = (
            f"与教师的平均余弦 {s:.4f};按主题检索的 MAP {s_map:.3f}"
            f"(教师 {t_map:.3f},未经训练直接复制相同层的对照 {c_map:.3f})"
        )
        name_en, name_zh = "MiniLM", "MiniLM"
    other = _best_other(results, workload, largest)
    flags = {
        "faster": fast >= SPEEDUP_BAR,
        "keeps": keeps,
        "beats": beats,
        "others_gain_more": other is not None and other[0] > fast,
    }
    if other is None:
        other_en = "no pruned or factorised variant keeps quality by the same rule at this point"
        other_zh = "在该测量点上没有满足同一质量规则的修剪或低秩变体"
    else:
        other_en = (
            f"the fastest pruned or factorised variant within the same rule, {other[1]}, is {other[0]:.2f}×"
        )
        other_zh = f"满足同一规则的最快修剪或低秩变体 {other[1]} 为 {other[0]:.2f}×"
    fraction = info(result, student)["params_fraction"]
    evidence_en = (
        f"{name_en}: `{student}` is {fast:.2f}× the teacher's speed at {where}, has {fraction:.0%} of its "
        f"parameters, {figures_en}; {other_en}; training took {trained:.1f} s{cached_en}."
    )
    evidence_zh = (
        f"{name_zh}:`{student}` 在{where_zh} 时速度为教师的 {fast:.2f} 倍,参数量为教师的 {fraction:.0%},"
        f"{figures_zh};{other_zh};训练耗时 {trained:.1f} 秒{cached_zh}。"
    )
    return flags, evidence_en, evidence_zh


def judge_t5(results: dict[str, Any]) -> Finding:
    """Exactly the rule of the T5 verdict below."""
    judged = [_judge_one(results, exp, s, c, t) for exp, s, c, t in JUDGED]
    if all(all(flags.values()) for flags, _, _ in judged):
        outcome = "holds"
    elif not any(flags["faster"] and flags["keeps"] for flags, _, _ in judged):
        outcome = "does-not-hold"
    else:
        outcome = "partly"
    return Finding(outcome, " ".join(e for _, e, _ in judged), "".join(z for _, _, z in judged))


VERDICTS = [
    Verdict(
        claim="T5",
        experiments=tuple(exp for exp, *_ in JUDGED)
        + tuple(e for pair in OTHER_COMPRESSION.values() for e in pair),
        rule=(
            "For each workload take the main distilled student (digits CNN: width 4; MiniLM: 3 layers) "
            f"and check four things at the largest batch measured: (a) it is at least {SPEEDUP_BAR}× as "
            "fast as its teacher; (b) it keeps quality: digits test accuracy at most "
            f"{ACCURACY_DROP_MAX * 100:.0f} point below the teacher's, MiniLM mean cosine to the teacher's "
            f"embeddings at least {COSINE_MIN}; (c) it beats its control: on digits a same-size student "
            "trained on the labels without the teacher (higher test accuracy); on MiniLM, where no labels "
            "exist to train without a teacher, the same layers copied without training (higher mean "
            "average precision at retrieving each sentence's topic mates); (d) the article's drawback, "
            "'the gain may not match other compression methods': some pruned or low-rank variant that "
            "keeps quality by (b) is faster than the student at the same point. Holds if all four hold on "
            "both workloads; does not hold if no student meets both (a) and (b); partly otherwise. The "
            "training cost is reported, not judged."
        ),
        rule_zh=(
            "每个工作负载取主要的蒸馏学生模型(Digits CNN:宽度 4;MiniLM:3 层),在测得的最大批量下检查四点:"
            f"(a)速度至少是教师模型的 {SPEEDUP_BAR} 倍;"
            f"(b)保持质量:Digits 测试准确率比教师低不超过 {ACCURACY_DROP_MAX * 100:.0f} 个百分点,"
            f"MiniLM 与教师嵌入的平均余弦不低于 {COSINE_MIN};"
            "(c)优于对照:Digits 上是不借助教师、只用标签训练的同尺寸学生模型(测试准确率更高);"
            "MiniLM 没有可以脱离教师来训练的标签,对照是未经训练直接复制的相同层"
            "(按主题检索同主题句子的平均精度均值更高);"
            "(d)原文所说的缺点「提升可能不如其他压缩方法」:在同一测量点上,有按(b)保持质量的修剪或低秩变体比学生模型更快。"
            "两个工作负载上四点全部满足则成立;没有任何学生模型同时满足(a)和(b)则不成立;其余情况为部分成立。"
            "训练开销只报告,不参与判定。"
        ),
        judge=judge_t5,
    )
]
