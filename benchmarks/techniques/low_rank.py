"""Low-rank decomposition (article table row T4): fewer parameters, and what it does to arithmetic.

A weight matrix is replaced by the product of two thinner ones (truncated SVD,
for Linear layers), and a convolution by a 1x1 -> kxk -> 1x1 chain (Tucker-2,
over the output- and input-channel modes). Every variant records its ranks,
which layers were factorised, its parameters and its FLOPs next to the
original's, so the article's claim that "computational complexity increases"
is settled by counting, and its latency by the runner's paired timing.

This file holds the decompositions (the code the page quotes); the builders and the
experiments are in ``low_rank_experiments``, the rule in ``benchmarks.claims.low_rank``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from benchmarks.engines.pytorch import one_thread

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

    chain = tucker_shell(conv, ranks)
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


def tucker_shell(conv: Any, ranks: tuple[int, int]) -> Any:
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
def replace_linears(
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
    replace_linears(model, rank_fraction, name_filter)
    return model


# --8<-- [end:factorize]


def conv_ranks(
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
    chosen = conv_ranks(model, rank_ratio, name_filter)
    for name, ranks in chosen.items():
        conv = model.get_submodule(name)
        model.set_submodule(name, tucker_factorize_conv(conv, (ranks[0], ranks[1]), n_iter_max=n_iter_max))
    return chosen


def tensorly_missing() -> str | None:
    """Why Tucker variants cannot run here, or None."""
    if importlib.util.find_spec("tensorly") is None:
        return "tensorly is not installed (needed for the Tucker decomposition); run `make install`"
    return None


# What decides factorised weights, besides their inputs: part of the keys of stored ones.
SVD_CODE = (svd_factorize_linear, replace_linears, _rank_of)
TUCKER_CODE = (factorize_model_convs, tucker_factorize_conv, tucker_shell, conv_ranks, _rank_of)
