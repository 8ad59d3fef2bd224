"""Inference engines as variants: each builds a model in its own worker process.

A builder returns a ``Variant``: ``bind(inputs)`` gives the zero-argument call
that the harness times, ``predict(inputs)`` gives outputs for quality checks,
and ``info`` and ``one_time_costs`` record what really ran and what it cost
before the first call.

One module per engine, each holding that engine's settings once:

| module | engine |
|---|---|
| ``pytorch`` | PyTorch eager: the baseline, any eager module as a variant, CPU probes |
| ``onnxruntime`` | the ONNX export (chosen among exporters, cached) and ONNX Runtime's session options |
| ``openvino`` | conversion, NNCF INT8, the CPU plugin's settings, what precision really ran |
| ``litert`` | LiteRT (TensorFlow Lite): conversion per shape and the interpreter |
| ``torch_compile`` | ``torch.compile`` with Inductor, one graph per shape |
| ``tensorrt`` | TensorRT's engine build and its run on GPU buffers |
| ``sentence_transformers`` | sentence-transformers and Optimum backends, as a user runs them |
| ``common`` | shape plumbing for engines that fix shapes, and parity checks |

Frameworks are imported inside functions only: the runner and the pages import
these modules without loading any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class ParityError(RuntimeError):
    """An exported model's outputs differ from PyTorch's beyond the stated tolerance."""


@dataclass
class Variant:
    bind: Callable[[dict[str, np.ndarray]], Callable[[], Any]]
    predict: Callable[[dict[str, np.ndarray]], np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)
    one_time_costs: dict[str, float] = field(default_factory=dict)
