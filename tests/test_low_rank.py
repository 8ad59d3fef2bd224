"""Low-rank decomposition: the factorisations are exact at full rank, and every experiment runs."""

from __future__ import annotations

import copy
import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from benchmarks import results as results_mod
from benchmarks import training
from benchmarks.claims import low_rank as low_rank_claims
from benchmarks.techniques import low_rank, low_rank_experiments

EXPERIMENTS = [exp.name for exp in low_rank_experiments.EXPERIMENTS]


def _product(chain: nn.Sequential) -> torch.Tensor:
    """The weight matrix that two factor layers apply together."""
    return chain[1].weight.detach() @ chain[0].weight.detach()


def test_svd_at_full_rank_reproduces_the_linear_layer():
    torch.manual_seed(0)
    linear = nn.Linear(48, 32)
    factors = low_rank.svd_factorize_linear(linear, 32)
    assert [layer.weight.shape for layer in factors] == [(32, 48), (32, 32)]
    assert factors[0].bias is None and torch.equal(factors[1].bias, linear.bias)
    x = torch.randn(7, 48)
    with torch.no_grad():
        np.testing.assert_allclose(factors(x).numpy(), linear(x).numpy(), atol=1e-4, rtol=0)


def test_svd_error_falls_as_rank_rises_and_matches_the_dropped_singular_values():
    torch.manual_seed(1)
    linear = nn.Linear(40, 24)
    weight = linear.weight.detach()
    singular = torch.linalg.svdvals(weight)
    errors = []
    for rank in range(1, 25):
        error = torch.linalg.norm(_product(low_rank.svd_factorize_linear(linear, rank)) - weight)
        # Eckart-Young: the best rank-r error is the norm of the singular values left out.
        assert float(error) == pytest.approx(float(torch.linalg.norm(singular[rank:])), abs=1e-4)
        errors.append(float(error))
    assert all(a > b for a, b in itertools.pairwise(errors))
    assert errors[-1] < 1e-4
    with pytest.raises(ValueError, match="rank"):
        low_rank.svd_factorize_linear(linear, 25)


@pytest.mark.parametrize("stride", [1, 2])
def test_tucker_at_full_ranks_reproduces_the_convolution(stride):
    torch.manual_seed(2)
    conv = nn.Conv2d(12, 20, 3, stride=stride, padding=1)
    chain = low_rank.tucker_factorize_conv(conv, (20, 12))
    assert [c.kernel_size for c in chain] == [(1, 1), (3, 3), (1, 1)]
    x = torch.randn(2, 12, 9, 9)
    with torch.no_grad():
        np.testing.assert_allclose(chain(x).numpy(), conv(x).numpy(), atol=1e-4, rtol=0)


def test_tucker_at_low_ranks_has_fewer_parameters_and_a_larger_error():
    torch.manual_seed(3)
    conv = nn.Conv2d(16, 32, 3, padding=1)
    x = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        reference = conv(x)
        errors = [
            float((low_rank.tucker_factorize_conv(conv, ranks)(x) - reference).norm())
            for ranks in ((32, 16), (16, 8), (4, 2))
        ]
    small = low_rank.tucker_factorize_conv(conv, (8, 4))
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in conv.parameters())
    assert errors[0] < 1e-3 < errors[1] < errors[2]


def test_factorising_a_model_replaces_only_layers_that_get_smaller():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    before = sum(p.numel() for p in model.parameters())
    # Fraction 0.5: the square 64x64 layer would break even, so only 64->256 is replaced
    # (rank 32: 32 * 320 < 64 * 256); the filter keeps the last layer as it is.
    chosen = low_rank.replace_linears(copy.deepcopy(model), 0.5, lambda name: name != "4")
    assert chosen == {"2": 32}
    small = low_rank.factorize_model_linears(copy.deepcopy(model), 0.25)
    assert all(isinstance(small[i], nn.Sequential) for i in (0, 2, 4))
    assert sum(p.numel() for p in small.parameters()) < before
    assert small(torch.randn(3, 64)).shape == (3, 10)


def test_digits_fine_tuning_never_reads_the_test_split(cache_dir, monkeypatch):
    """Test images full of NaN would poison the weights if fine-tuning touched them."""
    from benchmarks.workloads import digits_cnn

    x_train, x_test, y_train, y_test = digits_cnn.dataset()
    poisoned = (x_train, np.full_like(x_test, np.nan), y_train, y_test)
    monkeypatch.setattr(digits_cnn, "dataset", lambda *a, **k: poisoned)
    model = digits_cnn.build_model()
    before = [p.detach().clone() for p in model.parameters()]
    record = training.finetune_digits(model, dataclasses.replace(training.LOW_RANK_DIGITS, epochs=1))
    assert record["train_images"] == len(x_train)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


@pytest.fixture(scope="module")
def low_rank_results(toy_results: Path) -> Path:
    return toy_results


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_runs_at_toy_size(low_rank_results, name):
    result, _ = results_mod.load_experiment(name, low_rank_results)
    assert result is not None and result.status == "ok", result and result.reason
    baseline = result.config["baseline"]
    candidates = [v for v in result.variants if v != baseline]
    assert candidates
    for variant in candidates:
        info = result.variants[variant]["info"]
        assert info["layers_factorised"], variant
        # Every variant was chosen to shrink the model; its counts are measured, not copied.
        assert 0 < info["params_ratio"] < 1 and info["params"] < info["params_original"], variant
        # Ranks below break-even remove arithmetic as well as weights (FLOPs are counted, not derived).
        assert 0 < info["flops"] < info["flops_original"], variant
        assert "decompose_s" in result.one_time_costs[variant]
        assert result.variants[variant]["quality"], variant
    finetuned = [v for v in candidates if result.variants[v]["info"].get("finetuned")]
    for variant in finetuned:
        assert result.one_time_costs[variant]["finetune_s"] > 0


def test_verdict_follows_its_rule(low_rank_results):
    verdict = next(v for v in low_rank_claims.VERDICTS if v.claim == "T4")
    assert set(verdict.experiments) == set(EXPERIMENTS)
    results = {name: results_mod.load_experiment(name, low_rank_results)[0] for name in EXPERIMENTS}
    finding = verdict.judge(results)
    assert finding.outcome in ("partly", "does-not-hold", "holds")
    assert "| `low-rank/resnet50` |" in finding.evidence and "(随机权重)" in finding.evidence_zh

    def with_ratios(flops_ratio: float, speedup: float) -> dict:
        changed = copy.deepcopy(results)
        for result in changed.values():
            for name, variant in result.variants.items():
                if name != result.config["baseline"]:
                    variant["info"]["flops_ratio"] = flops_ratio
            for point in result.points:
                for name, entry in point["variants"].items():
                    if name != result.config["baseline"]:
                        entry["speedup"]["median"] = speedup
        return changed

    assert verdict.judge(with_ratios(1.2, 1.0)).outcome == "holds"
    assert verdict.judge(with_ratios(0.6, 1.3)).outcome == "does-not-hold"
    assert verdict.judge(with_ratios(0.6, 0.9)).outcome == "partly"


def test_recorded_flops_are_those_of_the_models(low_rank_results, cache_dir):
    from benchmarks.model_stats import count_flops
    from benchmarks.workloads import digits_cnn

    result, _ = results_mod.load_experiment("low-rank/digits-cnn", low_rank_results)
    inputs = digits_cnn.timing_inputs(low_rank_experiments.DIGITS_FLOPS_POINT)
    original = count_flops(digits_cnn.torch_model(), inputs)
    model = digits_cnn.torch_model()
    factors = low_rank.svd_factorize_linear(model.classifier[1], 8)
    model.set_submodule(low_rank_experiments.DIGITS_DENSE, factors)
    info = result.variants["svd-dense-r8"]["info"]
    assert info["flops_original"] == original
    assert info["flops"] == count_flops(model, inputs)
