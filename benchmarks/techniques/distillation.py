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

import dataclasses
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import training
from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.techniques.onnxruntime import PYTORCH_EAGER

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
    optimiser, batches and epochs, trained with cross-entropy alone. Both run
    ``training.fit_classifier`` with the teacher's optimiser, learning rate and
    batch size (``training.DISTILLATION_DIGITS``).
    """
    import torch

    from benchmarks.workloads import digits_cnn

    recipe = dataclasses.replace(
        training.DISTILLATION_DIGITS, epochs=epochs, temperature=temperature, alpha=alpha, seed=seed
    )
    torch.manual_seed(seed)
    x_train, _, y_train, _ = digits_cnn.dataset()
    xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
    student = digits_cnn.build_model(width, hidden)

    def soft_loss(logits: Any, idx: Any) -> Any:
        return distillation_loss(logits, soft_targets[idx], ys[idx], temperature, alpha)

    start = time.perf_counter()
    if teacher is not None:
        teacher.eval()
        with torch.no_grad():  # not inference_mode: its tensors cannot take part in a backward pass
            soft_targets = teacher(xs)  # the teacher's logits for every training image
    training.fit_classifier(student, xs, ys, recipe, loss=None if teacher is None else soft_loss)
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


# --8<-- [start:settings]
# Layers 0, 3 and 5 of the 6: the first layer (closest to the embeddings) and the last
# (whose output space the teacher's embeddings live in) are kept, with one from the middle.
STUDENT_LAYERS = (0, 3, 5)
# --8<-- [end:settings]


def _distilled_minilm(
    student: Any, teacher: Any, layers: tuple[int, ...]
) -> tuple[Any, dict[str, float], bool, training.Recipe]:
    """The distilled student (``training.recover_minilm``: every layer but the embedding tables,
    which are the teacher's, learns), from the artifact store when this code, corpus, model,
    layers and recipe trained it. Only the transformer layers are stored: the rest is the teacher's."""
    from benchmarks.workloads import minilm_corpus

    recipe = training.DISTILLATION_MINILM.scaled()

    def distil() -> dict[str, float]:
        texts = minilm_corpus.train_texts()
        spent = training.recover_minilm(student, teacher, texts, recipe, training.all_but_embeddings(student))
        return {"teacher_embed_s": spent["teacher_s"], "distil_s": spent["train_s"]}

    costs, cached = training.stored_weights(
        "minilm_student",
        {**training.minilm_inputs(recipe), "layers": list(layers)},
        student.encoder.encoder.layer,
        distil,
        code=(truncated_minilm, *training.MINILM_CODE),
        packages=("transformers",),
    )
    return student.eval(), costs, cached, recipe


def _size(model: Any, inputs: dict) -> tuple[int, int]:
    from benchmarks.model_stats import count_flops

    return sum(p.numel() for p in model.parameters()), count_flops(model, inputs)


def build_digits_student(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """A narrow digits CNN, distilled from the workload's trained CNN or trained on labels only."""
    import torch

    from benchmarks.engines.pytorch import torch_variant
    from benchmarks.workloads import digits_cnn

    torch.set_num_threads(threads)
    recipe = dataclasses.replace(training.DISTILLATION_DIGITS, **options.get("settings", {}))
    distil = bool(options["distil"])
    teacher = workload.torch_model()
    flops_inputs = workload.timing_inputs(FLOPS_POINT[workload.NAME])
    teacher_params, teacher_flops = _size(teacher, flops_inputs)
    with training.threads(recipe.threads):
        student, train_s = train_digits_student(
            teacher if distil else None,
            options["width"],
            options["hidden"],
            recipe.epochs or 0,
            recipe.temperature or 1.0,
            recipe.alpha or 0.0,
            recipe.seed,
        )
    params, flops = _size(student, flops_inputs)
    method: dict[str, Any] = {
        "method": "knowledge distillation" if distil else "labels only (control)",
        "epochs": recipe.epochs,
        "train_split_only": True,
        "train_threads": recipe.threads,
    }
    if distil:
        method |= {"temperature": recipe.temperature, "alpha": recipe.alpha}
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

    from benchmarks.engines.pytorch import torch_variant
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
        student, train_costs, cached, recipe = _distilled_minilm(student, teacher, layers)
        costs |= train_costs
        extra = {
            "method": "knowledge distillation (cosine loss on sentence embeddings)",
            "distil_cached": cached,
            "train_threads": recipe.threads,
            "distil_corpus": "minilm_train.txt",
            "distil_corpus_sentences": len(minilm_corpus.train_texts()),
            **{f"distil_{k}": v for k, v in recipe.knobs().items()},
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
