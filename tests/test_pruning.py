"""Pruning mechanics: sparsity reached, smaller dense models that still run, experiments end to end."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from torch import nn

from benchmarks import training
from benchmarks.claims import OUTCOMES
from benchmarks.claims import pruning as pruning_claims
from benchmarks.experiments import PROFILES
from benchmarks.results import ExperimentResult
from benchmarks.techniques import pruning
from benchmarks.workloads import digits_cnn, minilm
from tests.conftest import load_results


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("sparsity", [0.3, 0.75])
def test_magnitude_prune_reaches_the_requested_sparsity(sparsity):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    pruning.magnitude_prune(model, sparsity)
    assert pruning.weight_sparsity(model) == pytest.approx(sparsity, abs=0.01)
    # Permanent: no masks or original copies are left behind.
    assert not any("weight_orig" in name or "mask" in name for name, _ in model.named_buffers())
    assert {name for name, _ in model.named_parameters()} == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_magnitude_prune_removes_the_smallest_weights():
    model = nn.Sequential(nn.Linear(4, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.1, -5.0, 0.2, 3.0], [-0.3, 4.0, 2.0, -0.05]]))
    pruning.magnitude_prune(model, 0.5)
    assert torch.equal(
        model[0].weight != 0, torch.tensor([[False, True, False, True], [False, True, True, False]])
    )


def test_finetuning_keeps_pruned_weights_at_zero(cache_dir):
    torch.manual_seed(0)
    model = pruning.magnitude_prune(digits_cnn.build_model(), 0.8)
    zeros_before = [m.weight == 0 for m in pruning._prunable(model)]
    record = training.finetune_digits(model, dataclasses.replace(training.PRUNING_DIGITS, epochs=1))
    assert record["finetune_s"] > 0 and record["epochs"] == 1
    for was_zero, module in zip(zeros_before, pruning._prunable(model), strict=True):
        assert torch.all(module.weight[was_zero] == 0)
    assert pruning.weight_sparsity(model) >= 0.8 - 0.01


def test_channel_pruning_gives_a_smaller_cnn_that_still_classifies():
    torch.manual_seed(0)
    model = digits_cnn.build_model().eval()
    before = _params(model)
    pruning.prune_channels(model, 0.5, digits_cnn.example_inputs())
    assert _params(model) < before
    assert pruning.weight_sparsity(model) == 0.0  # smaller, not sparser: dense tensors
    assert model.features[0].out_channels < digits_cnn.SETTINGS.width
    with torch.inference_mode():
        out = model(images=torch.from_numpy(digits_cnn.timing_inputs({"batch": 5})["images"]))
    assert out.shape == (5, 10)


def test_minilm_ffn_pruning_gives_a_smaller_encoder_with_the_same_outputs_shape():
    model = minilm.torch_model()
    inputs = {k: torch.from_numpy(v) for k, v in minilm.example_inputs().items()}
    with torch.inference_mode():
        expected = model(**inputs)
    before = _params(model)
    pruning.prune_ffn_neurons(model, 0.5)
    assert _params(model) < before
    layers = model.encoder.encoder.layer
    assert all(layer.intermediate.dense.out_features == 768 for layer in layers)
    assert all(layer.output.dense.in_features == 768 for layer in layers)
    with torch.inference_mode():
        got = model(**inputs)
    assert got.shape == expected.shape
    assert torch.all(torch.isfinite(got))


@pytest.fixture(scope="module")
def toy_pruning_results(toy_results):
    """The pruning experiments from the session's toy run of every experiment."""
    return load_results(toy_results, [exp.name for exp in pruning.EXPERIMENTS])


@pytest.mark.parametrize("name", [exp.name for exp in pruning.EXPERIMENTS])
def test_each_pruning_experiment_runs_at_toy_size(toy_pruning_results, name):
    result = toy_pruning_results[name]
    assert result.status == "ok", result.reason
    experiment = next(exp for exp in pruning.EXPERIMENTS if exp.name == name)
    assert set(result.variants) == {v.name for v in experiment.variants}
    for variant_name, variant in result.variants.items():
        assert variant["quality"], f"{variant_name}: no quality recorded"
        assert all(np.isfinite(v) for v in variant["quality"].values())
        if variant_name == result.config["baseline"]:
            continue
        record = variant["info"]
        assert record["method"] in ("unstructured", "channels", "ffn-neurons")
        assert record["flops"] > 0 and record["params"] > 0
        if record["method"] == "unstructured":
            assert record["weight_sparsity"] == pytest.approx(record["target_amount"], abs=0.01)
            assert record["flops"] == record["flops_unpruned"]
        else:
            assert record["params"] < record["params_unpruned"]
            assert record["flops"] < record["flops_unpruned"]
        if record["recovery"] == "distillation":
            assert isinstance(record["distil_cached"], bool)
            assert result.one_time_costs[variant_name]["distil_s"] > 0
            # The profile's training scale reached the worker: toy distils for a tenth of the steps.
            full_steps = training.PRUNING_MINILM.steps
            assert record["distil_steps"] == round(full_steps * result.config["training_scale"]) < full_steps
        if record["recovery"] == "fine-tune":
            assert result.one_time_costs[variant_name]["finetune_s"] > 0
    assert len(result.points) == len(experiment.points(PROFILES["toy"]))


def test_t3_judge_follows_its_rule(toy_pruning_results):
    results = dict(toy_pruning_results)
    finding = pruning_claims.judge_t3(results)
    assert finding.outcome in OUTCOMES
    assert "unstructured" in finding.evidence and "非结构化" in finding.evidence_zh

    def with_speed(
        figure: float, low: float, high: float, cosine: float = 0.99
    ) -> dict[str, ExperimentResult]:
        """The MiniLM result, with every structured variant's speedup set to ``figure`` [low, high]."""
        original = results["pruning/minilm"]
        points = json.loads(json.dumps(original.points))
        for entry in points:
            for name, row in entry["variants"].items():
                if name != "pytorch-eager" and original.variants[name]["info"]["method"] == "ffn-neurons":
                    row["speedup"].update(median=figure, ci_low=low, ci_high=high)
        variants = json.loads(json.dumps(original.variants))
        for name, variant in variants.items():
            if name != "pytorch-eager":
                variant["quality"]["cosine_mean"] = cosine
        digits = json.loads(json.dumps(results["pruning/digits-cnn"].points))
        for entry in digits:
            for row in entry["variants"].values():
                if row.get("speedup"):
                    row["speedup"].update(median=0.9, ci_low=0.85, ci_high=0.95)
        return {
            **results,
            "pruning/minilm": dataclasses.replace(original, points=points, variants=variants),
            "pruning/digits-cnn": dataclasses.replace(results["pruning/digits-cnn"], points=digits),
        }

    # Every outcome the rule names can be reached, and the deciding figure is on the page.
    held = pruning_claims.judge_t3(with_speed(1.5, 1.3, 1.7))
    assert held.outcome == "holds" and "threshold 1.2×, margin +0.30×" in held.evidence
    assert "门槛 1.2×" in held.evidence_zh
    assert pruning_claims.judge_t3(with_speed(1.25, 1.1, 1.4)).outcome == "inconclusive"
    assert pruning_claims.judge_t3(with_speed(1.1, 1.05, 1.15)).outcome == "partly"
    assert pruning_claims.judge_t3(with_speed(1.0, 0.95, 1.1)).outcome == "inconclusive"  # not clearly faster
    assert pruning_claims.judge_t3(with_speed(0.95, 0.9, 0.98)).outcome == "does-not-hold"  # slower
    # Fast but outside the quality bound decides nothing: digits alone (slower) remains.
    assert pruning_claims.judge_t3(with_speed(2.0, 1.8, 2.2, cosine=0.5)).outcome == "does-not-hold"
