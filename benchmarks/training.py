"""One training module: how a compressed model is trained back, and how a student learns.

Three techniques train after they change a model: pruning and low-rank decomposition
recover what the change cost, and distillation trains a student from its teacher. They
share two loops and one kind of recipe:

- ``fit_classifier``: the digits CNN's loop (shuffled mini-batches, cross-entropy or a
  loss given by the caller); ``finetune_digits`` runs it on the TRAINING split.
- ``recover_minilm``: pulls an encoder's sentence embeddings towards the original's
  (1 − cosine) on a training corpus that shares no sentence with the evaluation set.
- ``Recipe``: every knob of a run (optimiser, learning rate, steps or epochs, batch,
  sequence length, loss weights, threads, seed). The recipes below are all those the
  pipelines use; ``recipes()`` lists their knobs for the methodology page.

``stored_weights`` keeps what a run trained in the artifact store (``benchmarks.store``),
so it is paid once. Light at import: torch loads inside functions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks import store
from benchmarks.experiments import training_length
from benchmarks.workloads import digits_cnn

OPTIMISERS = ("adamw", "adam")


@dataclass(frozen=True)
class Recipe:
    """The knobs of one training run. A recipe sets ``steps`` or ``epochs``, not both."""

    lr: float
    batch: int
    steps: int | None = None  # optimiser updates
    epochs: int | None = None  # passes over the training set
    optimiser: str = "adamw"  # "adamw" (decoupled weight decay) or "adam"
    weight_decay: float = 0.0
    seq_len: int | None = None  # text: tokens per sentence at most
    temperature: float | None = None  # distillation of a classifier: softening of both outputs
    alpha: float | None = None  # ... and the weight of the teacher's term (1 - alpha: the labels')
    keep_zeros: bool = False  # weights that are exactly zero stay zero (pruned weights stay pruned)
    threads: int = 1  # torch threads while training
    seed: int = 0

    def __post_init__(self) -> None:
        if self.optimiser not in OPTIMISERS:
            raise ValueError(f"optimiser must be one of {OPTIMISERS}, not {self.optimiser!r}")
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("a recipe sets either steps or epochs")

    def knobs(self) -> dict[str, Any]:
        """The knobs that apply (unset ones left out), for records and pages."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def scaled(self) -> Recipe:
        """This recipe under the running profile: its steps or epochs (the `full` profile's)
        scaled by the profile's training share (see ``experiments.training_length``)."""
        if self.steps is not None:
            return dataclasses.replace(self, steps=training_length(self.steps))
        return dataclasses.replace(self, epochs=training_length(self.epochs or 0))


# --8<-- [start:recipes]
# The digits CNN's own training (the workload's): AdamW, its learning rate, weight decay, batch.
TEACHER = digits_cnn.SETTINGS
# MiniLM: the workload's standard length of 128 tokens, AdamW without weight decay; steps and
# epochs are the `full` profile's, other profiles run their training share (``Recipe.scaled``).
MINILM_SEQ_LEN = 128

PRUNING_DIGITS = Recipe(
    lr=1e-3, batch=TEACHER.batch_size, epochs=10, weight_decay=TEACHER.weight_decay, keep_zeros=True
)
PRUNING_MINILM = Recipe(lr=1e-4, batch=16, steps=80, seq_len=MINILM_SEQ_LEN, keep_zeros=True)
LOW_RANK_DIGITS = Recipe(lr=1e-3, batch=TEACHER.batch_size, epochs=5, weight_decay=TEACHER.weight_decay)
LOW_RANK_MINILM = Recipe(lr=3e-4, batch=8, steps=40, seq_len=MINILM_SEQ_LEN)
# --8<-- [start:distillation]
# Digits students: the teacher's recipe for half its 40 epochs, so that four students
# train within the build's time budget; Hinton's loss at temperature 4, 0.9 on the teacher.
DISTILLATION_DIGITS = Recipe(
    lr=TEACHER.lr,
    batch=TEACHER.batch_size,
    epochs=TEACHER.epochs // 2,
    weight_decay=TEACHER.weight_decay,
    temperature=4.0,
    alpha=0.9,
)
DISTILLATION_MINILM = Recipe(lr=2e-4, batch=32, epochs=2, seq_len=MINILM_SEQ_LEN)
# --8<-- [end:distillation]
# --8<-- [end:recipes]

RECIPES: dict[str, Recipe] = {
    "pruning/digits-cnn": PRUNING_DIGITS,
    "pruning/minilm": PRUNING_MINILM,
    "low-rank/digits-cnn": LOW_RANK_DIGITS,
    "low-rank/minilm": LOW_RANK_MINILM,
    "distillation/digits-cnn": DISTILLATION_DIGITS,
    "distillation/minilm": DISTILLATION_MINILM,
}


def recipes() -> dict[str, dict[str, Any]]:
    """Every recipe's knobs, by the experiment that trains with it (MiniLM steps and epochs are
    the `full` profile's; other profiles run their training share of them)."""
    return {name: recipe.knobs() for name, recipe in RECIPES.items()}


# ---- shared pieces --------------------------------------------------------------------------


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """Run with ``count`` torch threads, then restore the count before."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_optimiser(recipe: Recipe, parameters: Iterable[Any]) -> Any:
    import torch

    kind = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[recipe.optimiser]
    return kind(parameters, lr=recipe.lr, weight_decay=recipe.weight_decay)


def zero_masks(model: Any) -> list[tuple[Any, Any]]:
    """(weight, mask) for every Conv/Linear weight holding exact zeros (pruned weights)."""
    from torch import nn

    layers = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
    return [
        (m.weight, m.weight != 0)
        for m in model.modules()
        if isinstance(m, layers) and bool((m.weight == 0).any())
    ]


def _apply(masks: list[tuple[Any, Any]]) -> None:
    import torch

    with torch.no_grad():
        for weight, mask in masks:
            weight.mul_(mask)


# ---- digits -----------------------------------------------------------------------------------


# --8<-- [start:digits]
def fit_classifier(
    model: Any,
    xs: Any,
    ys: Any,
    recipe: Recipe,
    loss: Callable[[Any, Any], Any] | None = None,
    after_step: Callable[[], None] | None = None,
) -> float:
    """Train ``model`` in place for ``recipe.epochs`` passes over (xs, ys) in shuffled
    mini-batches; the loss is cross-entropy unless ``loss(logits, batch indices)`` is given.
    With ``keep_zeros`` the weights that were zero are put back to zero after every step.
    Returns the seconds spent."""
    import torch
    import torch.nn.functional as F

    optimiser = make_optimiser(recipe, model.parameters())
    generator = torch.Generator().manual_seed(recipe.seed)
    masks = zero_masks(model) if recipe.keep_zeros else []
    start = time.perf_counter()
    model.train()
    for _ in range(recipe.epochs or 0):
        order = torch.randperm(len(xs), generator=generator)
        for i in range(0, len(xs), recipe.batch):
            idx = order[i : i + recipe.batch]
            logits = model(xs[idx])
            value = F.cross_entropy(logits, ys[idx]) if loss is None else loss(logits, idx)
            optimiser.zero_grad()
            value.backward()
            optimiser.step()
            _apply(masks)
            if after_step is not None:
                after_step()
    model.eval()
    return time.perf_counter() - start


def finetune_digits(model: Any, recipe: Recipe) -> dict[str, float]:
    """Fine-tune every weight on the digits TRAINING split only (the test split is never seen)."""
    import torch

    torch.manual_seed(recipe.seed)
    x_train, _, y_train, _ = digits_cnn.dataset()
    xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
    with threads(recipe.threads):
        finetune_s = fit_classifier(model, xs, ys, recipe)
    return {"finetune_s": finetune_s, "epochs": recipe.epochs or 0, "train_images": len(xs)}


# --8<-- [end:digits]


# ---- MiniLM ----------------------------------------------------------------------------------


# --8<-- [start:minilm]
def sentence_batches(texts: list[str], batch: int, seq_len: int) -> list[dict[str, Any]]:
    """Fixed batches of sentences sorted by length (little padding), as the encoder's inputs."""
    from benchmarks.workloads import minilm

    tokenizer = minilm.tokenizer()
    ordered = sorted(texts, key=len)
    batches = []
    for i in range(0, len(ordered), batch):
        tokens = tokenizer(
            ordered[i : i + batch], padding=True, truncation=True, max_length=seq_len, return_tensors="pt"
        )
        batches.append({"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]})
    return batches


def batch_schedule(n_batches: int, recipe: Recipe) -> list[int]:
    """The batches of each step: every pass visits all of them in a new seeded order."""
    import torch

    generator = torch.Generator().manual_seed(recipe.seed)
    steps = recipe.steps if recipe.steps is not None else (recipe.epochs or 0) * n_batches
    order: list[int] = []
    while len(order) < steps:
        order += torch.randperm(n_batches, generator=generator).tolist()
    return order[:steps]


def recover_minilm(
    student: Any, teacher: Any, texts: list[str], recipe: Recipe, trainable: list[Any]
) -> dict[str, float]:
    """Train the ``trainable`` parameters of ``student`` to reproduce ``teacher``'s sentence
    embeddings (loss: 1 - cosine), on ``texts``: a training corpus, never the evaluation set.

    The teacher embeds each batch once; the other parameters stay as they are. Dropout
    stays off (eval mode): the student matches the teacher's deterministic embeddings.
    Returns the seconds spent on the teacher's embeddings and on training, and the steps.
    """
    import torch
    import torch.nn.functional as F

    torch.manual_seed(recipe.seed)
    with threads(recipe.threads):
        start = time.perf_counter()
        batches = sentence_batches(texts, recipe.batch, recipe.seq_len or MINILM_SEQ_LEN)
        schedule = batch_schedule(len(batches), recipe)
        teacher.eval()
        with torch.no_grad():  # not inference_mode: its tensors cannot take part in a backward pass
            targets = {k: teacher(**batches[k]) for k in sorted(set(schedule))}
        teacher_s = time.perf_counter() - start

        start = time.perf_counter()
        for parameter in student.parameters():
            parameter.requires_grad_(False)
        for parameter in trainable:
            parameter.requires_grad_(True)
        optimiser = make_optimiser(recipe, trainable)
        masks = zero_masks(student) if recipe.keep_zeros else []
        student.eval()
        losses = []
        for k in schedule:
            loss = (1 - F.cosine_similarity(student(**batches[k]), targets[k], dim=-1)).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            _apply(masks)
            losses.append(loss.detach())
        for parameter in student.parameters():
            parameter.requires_grad_(True)
    return {
        "teacher_s": teacher_s,
        "train_s": time.perf_counter() - start,
        "steps": len(schedule),
        "final_loss": float(losses[-1]) if losses else float("nan"),
    }


def all_but_embeddings(encoder: Any) -> list[Any]:
    """The parameters of a MiniLM encoder outside its embedding tables (which stay frozen:
    updating their 12 M parameters took half of each step, and no technique changes them)."""
    frozen = {id(p) for p in encoder.encoder.embeddings.parameters()}
    return [p for p in encoder.parameters() if id(p) not in frozen]


# --8<-- [end:minilm]


# What decides a recovered encoder's weights, besides its inputs: keys of stored students.
MINILM_CODE = (recover_minilm, sentence_batches, batch_schedule, make_optimiser, zero_masks, _apply)


def minilm_inputs(recipe: Recipe) -> dict[str, Any]:
    """The inputs every recovered MiniLM's key holds: corpus, model and recipe."""
    from benchmarks.workloads import minilm, minilm_corpus

    return {
        "corpus": store.file_digest(minilm_corpus.TRAIN_TEXT),
        "model": minilm.MODEL_SHA256,
        "recipe": recipe.knobs(),
    }


# ---- stored weights -------------------------------------------------------------------------


def stored_weights(
    kind: str,
    inputs: Mapping[str, Any],
    module: Any,
    train: Callable[[], dict[str, Any]],
    *,
    code: Iterable[Callable[..., Any]] = (),
    packages: Iterable[str] = (),
    reshape: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], bool]:
    """What ``train()`` does to ``module``, made once per key in the artifact store.

    The first run calls ``train()``, which changes ``module`` in place and returns a record
    (its costs); the module's weights are stored with the record. A later run with the same
    key loads them into ``module`` instead (``reshape()`` first gives it the structure they
    fit). Returns the record and whether it came from the store."""
    import torch

    made: dict[str, Any] = {}
    loaded: dict[str, Any] = {}

    def make(path: Any) -> None:
        made["record"] = train()
        torch.save({"state_dict": module.state_dict(), "record": made["record"]}, path)

    def check(path: Any) -> None:
        checkpoint = torch.load(path, weights_only=True)
        if not isinstance(checkpoint, dict) or not {"state_dict", "record"} <= checkpoint.keys():
            raise ValueError("not a stored training checkpoint")
        loaded["checkpoint"] = checkpoint

    path = store.artifact(
        kind, inputs, make, code=code, packages=("torch", *packages), suffix=".pt", check=check
    )
    if made:
        return made["record"], False
    checkpoint = loaded.get("checkpoint") or torch.load(path, weights_only=True)
    if reshape is not None:
        reshape()
    module.load_state_dict(checkpoint["state_dict"])
    return dict(checkpoint["record"]), True
