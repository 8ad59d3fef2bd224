"""Pretrained models (C9): fine-tuning a pretrained network against training the same
network from scratch on the same few labels.

Top-level imports stay light: torch loads inside the functions.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.engines.pytorch import one_thread
from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.points import grid
from benchmarks.techniques.model_size import DIGITS_BASE, build_sized_cnn, stored_weights
from benchmarks.workloads.digits_cnn import fit

SEED = 0

FEW_SHOT_PER_CLASS = 10
SOURCE_CLASSES = (0, 1, 2, 3, 4)
NEW_CLASSES = (5, 6, 7, 8, 9)
FEW_SHOT_STEPS = 200  # full-batch steps on the few labelled images, for both variants
EVAL_EVERY = 10


def few_shot_split(per_class: int = FEW_SHOT_PER_CLASS, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` labelled training images of each digit, drawn from the train split only."""
    from benchmarks.workloads.digits_cnn import dataset

    x_train, _, y_train, _ = dataset()
    rng = np.random.default_rng(seed)
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(y_train == c), per_class, replace=False) for c in range(10)]
    )
    return x_train[idx], y_train[idx]


def pretrain_source():
    """The "published" model: the workload's network trained on digits 0-4 of the train split only."""
    import torch

    from benchmarks.workloads.digits_cnn import SETTINGS, dataset

    def train():
        x_train, _, y_train, _ = dataset()
        keep = np.isin(y_train, SOURCE_CLASSES)
        torch.manual_seed(SETTINGS.seed)
        model = build_sized_cnn(**DIGITS_BASE)
        xs, ys = torch.from_numpy(x_train[keep]), torch.from_numpy(y_train[keep])
        with one_thread():
            train_s = fit(model, xs, ys, epochs=SETTINGS.epochs, lr=SETTINGS.lr, seed=0)
        return model, {"pretrain_s": train_s, "pretrain_images": int(keep.sum())}

    # Built before training: the random draws that follow (train_few_shot's fresh output layer)
    # are those of the published results, whether the weights were stored or not.
    model = build_sized_cnn(**DIGITS_BASE)
    settings = {"classes": SOURCE_CLASSES, "recipe": str(SETTINGS)}
    state, training, cached = stored_weights(
        "digits-pretrained-source", settings, train, (build_sized_cnn, fit, pretrain_source)
    )
    model.load_state_dict(state)
    return model.eval(), {**training, "cached": cached}


# --8<-- [start:few-shot]
def train_few_shot(start_from: str) -> tuple[Any, dict[str, Any]]:
    """Train on 10 labelled images per digit, from the pretrained model or from random weights.

    Both use the workload's optimiser and learning rate, full-batch, for the same number of steps.

    Test accuracy is recorded every few steps to find when each reaches a given accuracy;
    the model kept is the one at the end of the fixed budget (nothing is selected on test).
    """
    import torch

    from benchmarks.workloads.digits_cnn import SETTINGS, dataset

    torch.manual_seed(SETTINGS.seed)
    if start_from == "pretrained":
        model, source = pretrain_source()
        # The usual fine-tuning recipe: keep the learnt layers, give the new task a fresh output layer
        # (the old one was trained never to answer 5-9).
        model.classifier[-1].reset_parameters()
    else:
        model, source = build_sized_cnn(**DIGITS_BASE), {}
    xs, ys = (torch.from_numpy(a) for a in few_shot_split())
    _, x_test, _, y_test = dataset()
    new = np.isin(y_test, NEW_CLASSES)
    x_test_t = torch.from_numpy(x_test)
    optimiser = torch.optim.AdamW(model.parameters(), lr=SETTINGS.lr, weight_decay=SETTINGS.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    curve, train_s = [], 0.0
    for step in range(FEW_SHOT_STEPS + 1):
        if step % EVAL_EVERY == 0:
            model.eval()
            with torch.inference_mode():
                predicted = model(x_test_t).argmax(1).numpy()
            correct = predicted == y_test
            curve.append((step, train_s, float(correct.mean()), float(correct[new].mean())))
        if step == FEW_SHOT_STEPS:
            break
        model.train()
        start = time.perf_counter()
        optimiser.zero_grad()
        loss_fn(model(xs), ys).backward()
        optimiser.step()
        train_s += time.perf_counter() - start
    model.eval()
    return model, {"curve": curve, "train_s": train_s, **source}


# --8<-- [end:few-shot]


def build_few_shot(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import torch

    from benchmarks.engines.pytorch import torch_variant

    torch.set_num_threads(threads)
    start_from = options["start_from"]
    model = build_sized_cnn(**DIGITS_BASE)

    def train():
        with one_thread():
            return train_few_shot(start_from)

    state, record, cached = stored_weights(
        "digits-few-shot",
        {"start_from": start_from, "per_class": FEW_SHOT_PER_CLASS, "steps": FEW_SHOT_STEPS},
        train,
        (build_sized_cnn, fit, pretrain_source, train_few_shot, few_shot_split),
    )
    model.load_state_dict(state)
    curve = [tuple(row) for row in record["curve"]]
    costs = {"few_shot_train_s": record["train_s"]}
    if "pretrain_s" in record:
        costs["pretrain_s_paid_once_by_publisher"] = record["pretrain_s"]
    return torch_variant(
        model.eval(),
        costs,
        method="few-shot",
        start_from=start_from,
        labelled_images=10 * FEW_SHOT_PER_CLASS,
        steps=FEW_SHOT_STEPS,
        curve=curve,
        final_test_accuracy=curve[-1][2],
        final_test_accuracy_new_digits=curve[-1][3],
        cached=cached,
    )


FEW_SHOT_VARIANTS = (
    VariantSpec(
        "scratch",
        f"From scratch, {FEW_SHOT_PER_CLASS} labels per digit",
        f"从零训练,每个数字 {FEW_SHOT_PER_CLASS} 个标注",
        "benchmarks.techniques.pretrained:build_few_shot",
        {"start_from": "scratch"},
    ),
    VariantSpec(
        "pretrained",
        f"Pretrained on digits 0-4, fine-tuned on {FEW_SHOT_PER_CLASS} labels per digit",
        f"在数字 0-4 上预训练,再用每个数字 {FEW_SHOT_PER_CLASS} 个标注微调",
        "benchmarks.techniques.pretrained:build_few_shot",
        {"start_from": "pretrained"},
    ),
)


# The technique stays "principles": the page's name, stored in every result's configuration.
EXPERIMENTS = [
    Experiment(
        name="pretrained/digits-cnn",
        technique="principles",
        workload="digits-cnn",
        variants=FEW_SHOT_VARIANTS,
        grids={"toy": grid((1,)), "default": grid((1,)), "full": grid((1, 256))},
    ),
]
