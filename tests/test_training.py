"""The one training module: recipes with explicit knobs, the shared loops, weights stored once."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch
from torch import nn

from benchmarks import training
from benchmarks.techniques import distillation, low_rank_experiments, pruning
from benchmarks.workloads import digits_cnn


def test_a_recipe_sets_steps_or_epochs_and_a_known_optimiser():
    with pytest.raises(ValueError, match="steps or epochs"):
        training.Recipe(lr=1e-3, batch=8)
    with pytest.raises(ValueError, match="steps or epochs"):
        training.Recipe(lr=1e-3, batch=8, steps=1, epochs=1)
    with pytest.raises(ValueError, match="optimiser"):
        training.Recipe(lr=1e-3, batch=8, steps=1, optimiser="sgd")
    knobs = training.Recipe(lr=1e-3, batch=8, steps=3).knobs()
    assert "epochs" not in knobs and "temperature" not in knobs and knobs["steps"] == 3


def test_recipes_list_every_training_experiment_with_one_optimiser_and_sequence_length():
    found = training.recipes()
    assert set(found) == set(training.RECIPES)
    assert {k["optimiser"] for k in found.values()} == {"adamw"}
    minilm = {name: knobs for name, knobs in found.items() if name.endswith("/minilm")}
    assert len(minilm) == 3 and {k["seq_len"] for k in minilm.values()} == {128}
    # Pruning keeps its zeros; the other techniques have none to keep.
    assert [name for name, k in found.items() if k["keep_zeros"]] == ["pruning/digits-cnn", "pruning/minilm"]


def test_the_experiments_options_are_their_recipes_knobs():
    by_name = {v.name: v.options for exp in pruning.EXPERIMENTS for v in exp.variants}
    assert by_name["unstructured-90-ft"]["finetune_epochs"] == training.PRUNING_DIGITS.epochs
    options = {v.name: v.options for exp in low_rank_experiments.EXPERIMENTS for v in exp.variants}
    distill = options["svd-ffn-0.5-distilled"]["distill"]
    assert dataclasses.replace(training.LOW_RANK_MINILM, **distill) == training.LOW_RANK_MINILM
    assert options["svd-dense-r8-ft"]["finetune_epochs"] == training.LOW_RANK_DIGITS.epochs
    # The digits students train with the teacher's recipe, for half its epochs.
    recipe, teacher = training.DISTILLATION_DIGITS, digits_cnn.SETTINGS
    assert (recipe.lr, recipe.batch) == (teacher.lr, teacher.batch_size)
    assert recipe.weight_decay == teacher.weight_decay and recipe.epochs == teacher.epochs // 2
    parameters = inspect.signature(distillation.train_digits_student).parameters
    defaults = {name: parameter.default for name, parameter in parameters.items()}
    assert (defaults["epochs"], defaults["temperature"], defaults["alpha"]) == (
        recipe.epochs,
        recipe.temperature,
        recipe.alpha,
    )


@pytest.mark.parametrize(("steps", "epochs"), [(7, None), (None, 2)])
def test_the_schedule_visits_every_batch_once_per_pass(steps, epochs):
    recipe = training.Recipe(lr=1e-3, batch=4, steps=steps, epochs=epochs, seed=3)
    order = training.batch_schedule(5, recipe)
    assert len(order) == (steps or 2 * 5)
    assert sorted(order[:5]) == list(range(5))
    assert order == training.batch_schedule(5, recipe)  # seeded


def test_keep_zeros_keeps_zero_weights_at_zero():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))
    with torch.no_grad():
        model[0].weight[:, :3] = 0
    xs, ys = torch.randn(32, 6), torch.arange(32) % 3
    recipe = training.Recipe(lr=1e-2, batch=8, epochs=2, keep_zeros=True)
    training.fit_classifier(model, xs, ys, recipe)
    assert torch.all(model[0].weight[:, :3] == 0) and torch.any(model[0].weight[:, 3:] != 0)
    free = dataclasses.replace(recipe, keep_zeros=False)
    training.fit_classifier(model, xs, ys, free)
    assert torch.any(model[0].weight[:, :3] != 0)


def test_stored_weights_are_trained_once_and_loaded_after(cache_dir):
    calls = []

    def run(module):
        def train():
            calls.append(1)
            with torch.no_grad():
                module.weight.fill_(2.0)
            return {"train_s": 1.5}

        return training.stored_weights("test_weights", {"n": 1}, module, train)

    first, second = nn.Linear(2, 2), nn.Linear(2, 2)
    assert run(first) == ({"train_s": 1.5}, False)
    assert run(second) == ({"train_s": 1.5}, True)
    assert calls == [1] and torch.equal(second.weight, torch.full((2, 2), 2.0))
    assert torch.equal(second.bias, first.bias)


def test_the_methodology_page_shows_every_recipe_from_the_code():
    from benchmarks.report.page import Renderer
    from benchmarks.report.training import training as marker

    table = marker(Renderer(), None, "en")
    for name, knobs in training.recipes().items():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{name}` |"))
        for value in knobs.values():
            assert f"`{value}`" in row, (name, value)
