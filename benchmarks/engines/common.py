"""What engines that fix shapes share: one program per input shape, each checked against PyTorch.

``torch.compile`` with ``dynamic=False``, LiteRT and OpenVINO reshaped to static
dimensions prepare one program per input shape: the batch-1 shape at build time,
every other timed shape when the runner binds it, each compared with PyTorch
eager on its own inputs before it is timed.

Converted models (OpenVINO IR, INT8 IR, ``.tflite`` files) are artifacts of the
store (``converted_model``): the conversion time measured when a file was made
travels with it, and the record says whether this run reused it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.engines import ParityError
from benchmarks.engines.pytorch import eager_outputs


def shape_label(inputs: dict[str, np.ndarray]) -> str:
    """A shape as text, for one-time costs and records ("batch=1,seq=128", "batch=8,8x8")."""
    first = next(iter(inputs.values()))
    # No spaces: the label is part of a one-time cost's name, which page markers can cite.
    if first.ndim == 2:  # token inputs: (batch, sequence)
        return f"batch={first.shape[0]},seq={first.shape[1]}"
    if first.ndim == 4:  # images: (batch, channels, height, width)
        return f"batch={first.shape[0]},{first.shape[2]}x{first.shape[3]}"
    return "batch=" + "x".join(str(d) for d in first.shape)


def max_abs_diff(got: np.ndarray, expected: np.ndarray, engine: str) -> float:
    if got.shape != expected.shape:
        raise ParityError(f"{engine} output shape {got.shape} differs from PyTorch's {expected.shape}")
    return float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))


def check_parity(worst: float, tolerance: float, engine: str) -> None:
    if not worst <= tolerance:
        raise ParityError(f"{engine} output differs from PyTorch by {worst:.3g} (tolerance {tolerance:g})")


def as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "numpy"):
        return value.float().numpy() if hasattr(value, "float") else value.numpy()
    return np.asarray(value)


def pad_row(row: dict[str, np.ndarray], seq_len: int | None) -> dict[str, np.ndarray]:
    """A token row cut to its real length and padded (mask 0) to ``seq_len``; images unchanged.

    Masked positions change neither attention nor mean pooling, so the embedding stays the
    same; a longer sentence is padded to the next multiple of ``seq_len`` (one more program).
    """
    if seq_len is None or "attention_mask" not in row:
        return row
    length = int(row["attention_mask"].sum())
    width = -(-length // seq_len) * seq_len
    padded = {}
    for name, value in row.items():
        out = np.zeros((1, width), dtype=value.dtype)
        out[:, :length] = value[:, :length]
        padded[name] = out
    return padded


class StaticShapes:
    """Programs compiled or converted for one input shape each, made on first use and checked.

    ``prepare(inputs)`` returns ``(make_call, cost_s)``: ``make_call(inputs)`` gives the
    zero-argument call the harness times, and ``cost_s`` is the compile or conversion time.
    Every new shape is compared with PyTorch eager on its own inputs before it is used.
    """

    def __init__(
        self,
        engine: str,
        workload: ModuleType,
        model: Any,
        prepare: Callable[[dict[str, np.ndarray]], tuple[Callable[..., Callable[[], Any]], float]],
        cost_name: str,
        record: dict[str, Any],
        costs: dict[str, float],
    ) -> None:
        self.engine, self.workload, self.model = engine, workload, model
        self.prepare, self.cost_name = prepare, cost_name
        self.record, self.costs = record, costs
        self.programs: dict[tuple, Callable[..., Callable[[], Any]]] = {}
        self.seq_len: int | None = None  # set by build() for token inputs
        self.record.setdefault("shapes_prepared", [])
        self.record.setdefault("parity_max_abs_diff", 0.0)
        self.record["parity_tolerance"] = workload.PARITY_ATOL

    def program(self, inputs: dict[str, np.ndarray]) -> Callable[..., Callable[[], Any]]:
        key = tuple((k, v.shape) for k, v in inputs.items())
        if key not in self.programs:
            label = shape_label(inputs)
            make_call, cost_s = self.prepare(inputs)
            expected = eager_outputs(self.model, inputs)
            worst = max_abs_diff(as_numpy(make_call(inputs)()), expected, self.engine)
            check_parity(worst, self.workload.PARITY_ATOL, f"{self.engine} ({label})")
            self.record["parity_max_abs_diff"] = max(self.record["parity_max_abs_diff"], worst)
            self.record["shapes_prepared"].append(label)
            self.costs[f"{self.cost_name}[{label}]"] = cost_s
            self.programs[key] = make_call
        return self.programs[key]

    def bind(self, inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        return self.program(inputs)(inputs)

    def predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """One example at a time at the build shape, so evaluation adds no shapes to compile."""
        rows = []
        for i in range(len(next(iter(inputs.values())))):
            row = pad_row({k: v[i : i + 1] for k, v in inputs.items()}, self.seq_len)
            rows.append(as_numpy(self.program(row)(row)()))
        return np.concatenate(rows)

    def build(self) -> None:
        """Prepare the batch-1 shape (a timed point of every grid) and remember its sequence length."""
        first = self.workload.parity_inputs()[0]
        if len(next(iter(first.values()))) != 1:
            raise ValueError(f"{self.workload.NAME}: the first parity input must have batch 1")
        self.seq_len = first["attention_mask"].shape[1] if "attention_mask" in first else None
        self.program(first)


def converted_model(
    kind: str,
    workload: ModuleType,
    inputs: Mapping[str, Any],
    make: Callable[[Path], dict[str, Any]],
    code: Iterable[Callable[..., Any]],
    packages: Iterable[str],
) -> tuple[Path, dict[str, Any], bool]:
    """A folder made once per key by ``make(folder) -> meta``; returns (folder, meta, reused).

    The key: the workload's code (its weights follow from it), ``inputs`` (shape, settings),
    the converting ``code`` and the ``packages``' versions (PyTorch's always). ``meta`` (what
    the conversion cost when it ran) is kept beside the files.
    """
    from benchmarks import store

    made: list[bool] = []

    def write(folder: Path) -> None:
        folder.mkdir()
        meta = make(folder)
        (folder / "meta.json").write_text(json.dumps(meta, sort_keys=True))
        made.append(True)

    def check(folder: Path) -> None:
        json.loads((folder / "meta.json").read_text())

    source = store.file_digest(Path(str(workload.__file__)))
    key = {"workload": workload.NAME, "workload_source": source, **inputs}
    folder = store.artifact(
        f"engines/{kind}",
        key,
        write,
        code=code,
        packages=("torch", *packages),
        suffix=f"-{workload.NAME}",
        check=check,
    )
    return folder, json.loads((folder / "meta.json").read_text()), not made
