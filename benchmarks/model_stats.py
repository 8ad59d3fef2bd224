"""Size and arithmetic of a PyTorch model: what compression techniques change.

``model_size`` counts stored parameters, non-zero parameters and the bytes of
the weights stored dense and stored sparse (values plus indices of non-zeros),
so pruning's effect on storage is measured, not assumed. ``count_flops`` counts
floating-point operations of one forward call with PyTorch's own counter.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np


def model_size(model: Any) -> dict[str, float]:
    import torch

    tensors = [t for t in model.state_dict().values() if torch.is_tensor(t) and t.is_floating_point()]
    params = sum(t.numel() for t in tensors)
    nonzero = sum(int(torch.count_nonzero(t)) for t in tensors)
    dense = io.BytesIO()
    torch.save(model.state_dict(), dense)
    # Sparse storage: each non-zero value (4 bytes) and its flat index (4 bytes).
    sparse_bytes = sum(min(t.numel() * t.element_size(), int(torch.count_nonzero(t)) * 8) for t in tensors)
    return {
        "params": params,
        "nonzero_params": nonzero,
        "model_mb": dense.tell() / 2**20,
        "model_sparse_mb": sparse_bytes / 2**20,
    }


def count_flops(model: Any, inputs: dict[str, np.ndarray]) -> int:
    """Floating-point operations of one forward call on ``inputs`` (a multiply-add counts as 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        model(**tensors)
    return int(counter.get_total_flops())
