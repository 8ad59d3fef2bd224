"""ONNX Runtime: the ONNX export every ONNX Runtime variant runs, and its session options.

The export is made once per model, exporter code and package versions (the
artifact store keeps it), with every candidate exporter a user would try; the
exact and fastest one is kept (``choose_export``). Every session of the site gets
its options from ``ort_session_options``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.engines import ParityError, Variant

# --8<-- [start:export]
# The exporters a user would try: the TorchScript exporter at opset 17 and the torch.export-based
# one at its own default opset. The first is what ONNX Runtime's BERT fusions were written for.
EXPORT_CANDIDATES = (("torchscript", 17), ("dynamo", None))
# What ``torch.onnx.export(model, ...)`` gives with nothing chosen: torch.export at its default opset.
PLAIN_EXPORT = ("dynamo", None)


def export_onnx(
    model: Any, workload: ModuleType, path: Path, exporter: str = "dynamo", opset: int | None = 18
) -> dict[str, Any]:
    """Export with ``exporter`` ("torchscript" or "dynamo", the torch.export-based one) at
    ``opset`` (None: the exporter's own default); batch, sequence and (where the workload
    allows it) image height and width stay dynamic. The ONNX Runtime variants export through
    ``exported_model``, which tries every candidate; the defaults here (torch.export at
    opset 18) are what a caller that needs one fixed export gets (the TensorRT pipeline)."""
    import logging

    import onnx
    import torch

    # The exporter logs a warning per missing optional torchvision operator.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    example = {k: torch.from_numpy(v) for k, v in workload.example_inputs().items()}
    axes: dict[str, dict[int, str]] = {}
    for name, value in example.items():
        axes[name] = {0: "batch"}
        if value.dim() == 2:  # token inputs: (batch, sequence)
            axes[name][1] = "sequence"
        if value.dim() == 4 and getattr(workload, "DYNAMIC_IMAGE_SIZE", False):
            axes[name] |= {2: "height", 3: "width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            torch.onnx.export(
                model,
                args=(),
                kwargs=example,
                f=str(path),
                input_names=list(example),
                output_names=["output"],
                dynamic_axes={**axes, "output": {0: "batch"}},
                opset_version=opset,
                dynamo=False,
            )
        elif exporter == "dynamo":
            limits = {"batch": (1, 4096), "sequence": (2, 512), "height": (32, 1024), "width": (32, 1024)}
            dims = {
                name: {i: torch.export.Dim(d, min=limits[d][0], max=limits[d][1]) for i, d in a.items()}
                for name, a in axes.items()
            }
            program = torch.onnx.export(
                model,
                args=(),
                kwargs=example,
                dynamic_shapes=dims,
                input_names=list(example),
                output_names=["output"],
                opset_version=opset,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
            assert program is not None  # with dynamo=True the export returns its program
            program.save(str(path), external_data=False)
        else:
            raise ValueError(f"unknown exporter {exporter!r}")
    proto = onnx.load(str(path), load_external_data=False)
    written = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    return {
        "exporter": {"torchscript": "torch.onnx (TorchScript)", "dynamo": "torch.onnx (torch.export)"}[
            exporter
        ],
        "opset": written,
        "opset_requested": opset if opset is not None else "exporter default",
        "file_mb": path.stat().st_size / 2**20,
    }


# --8<-- [end:export]


OPT_LEVELS = {
    "disabled": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


# --8<-- [start:session]
def ort_session_options(
    threads: int, opt_level: str = "all", engine_defaults: bool = False, spinning: bool = True
) -> tuple[Any, dict[str, Any]]:
    """The session options of every ONNX Runtime variant, and the record of what they set.

    Tuned, as ONNX Runtime's thread-management guide advises for latency: intra-op threads set
    to the run's count (one per physical core, the guide's default; the machine card records
    both counts), one inter-op thread with sequential execution (a chain of layers has no
    branches to run side by side), and idle threads that spin between calls (ONNX Runtime's
    default: a sleeping thread must be woken for every operator). The runner waits until a
    worker's threads stop spinning before it times the next one, so the spinning costs no
    other variant its cores. Measured here before that wait existed, turning spinning off
    made the digits CNN's batch-1 call 1.66 times slower than ONNX Runtime's defaults.
    ``engine_defaults``: ONNX Runtime's own defaults, only the thread count set (the same as
    the PyTorch baseline's). ``spinning=False``: idle threads sleep, for processes that share
    their cores with other work (or, as a variant, to measure what spinning buys).
    """
    import os

    import onnxruntime as ort

    from benchmarks.machine import physical_cores

    cores = {"physical_cores": physical_cores(os.sched_getaffinity(0))}
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    if engine_defaults:
        return options, {
            "session_options": "ONNX Runtime defaults (threads set)",
            "graph_optimization_level": "all",  # ORT_ENABLE_ALL is the default
            "intra_op_threads": threads,
            "inter_op_threads": "default",
            "allow_spinning": "default (1)",
            **cores,
        }
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, OPT_LEVELS[opt_level])
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    spin = "1" if spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    return options, {
        "session_options": "tuned" if spinning else "tuned, idle threads sleeping",
        "graph_optimization_level": opt_level,
        "intra_op_threads": threads,
        "inter_op_threads": 1,
        "allow_spinning": spin,
        **cores,
    }


def ort_session(path: Path, options: Any) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# --8<-- [end:session]


def tuned_session(path: Path, threads: int, optimized_path: Path | None = None) -> Any:
    """A session with the tuned options of every ONNX Runtime variant; optionally writing the
    graph ONNX Runtime executes to ``optimized_path``, to record which kernels it chose."""
    options, _ = ort_session_options(threads)
    if optimized_path is not None:
        options.optimized_model_filepath = str(optimized_path)
        options.log_severity_level = 3  # not the warning that such a graph is hardware-specific
    return ort_session(path, options)


def check_session_parity(model: Any, session: Any, workload: ModuleType, engine: str) -> float:
    """Same inputs through PyTorch and an ONNX Runtime session, at shapes other than the
    export example; raises ParityError beyond the workload's tolerance."""
    import torch

    worst = 0.0
    for inputs in workload.parity_inputs():
        with torch.inference_mode():
            expected = model(**{k: torch.from_numpy(v) for k, v in inputs.items()}).numpy()
        got = session.run(None, inputs)[0]
        worst = max(worst, float(np.max(np.abs(got - expected))))
    if not worst <= workload.PARITY_ATOL:
        raise ParityError(
            f"{engine} output differs from PyTorch by {worst:.3g} (tolerance {workload.PARITY_ATOL:g})"
        )
    return worst


# ---- the export every ONNX Runtime variant runs: made once, chosen by measurement ---------------

# A candidate is kept over the first exact one only when it is this much faster: closer than that,
# two short timings on a shared machine do not tell them apart.
EXPORT_MARGIN = 1.05
EXPORT_TIMING: dict[str, Any] = {
    "warmup_iters": 3,
    "warmup_s": 0.2,
    "min_iters": 5,
    "min_s": 0.25,
    "rounds": 5,
}


def candidate_name(exporter: str, opset: int | None) -> str:
    return f"{exporter}-{opset if opset is not None else 'default'}"


def time_candidates(sessions: dict[str, Any], inputs: dict[str, np.ndarray]) -> dict[str, list[list[float]]]:
    """Interleaved rounds of each session at one point (each round starts at another candidate)."""
    from benchmarks.harness import MeasureSettings, measure_round, warm_up

    settings = MeasureSettings(**EXPORT_TIMING)
    calls = {name: (lambda s=s: s.run(None, inputs)) for name, s in sessions.items()}
    for call in calls.values():
        warm_up(call, settings)
    rounds: dict[str, list[list[float]]] = {name: [] for name in calls}
    names = list(calls)
    for r in range(settings.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            rounds[name].append(measure_round(calls[name], settings))
    return rounds


def choose_export(model: Any, workload: ModuleType, folder: Path, stem: str, threads: int) -> dict[str, Any]:
    """Export with every candidate, keep those within the parity tolerance, time them at the
    workload's reference point with the tuned session, and keep the fastest exact one.

    Returns the record of the choice: each candidate's file, parity, p50 and export time, the
    one chosen and why. Raises ParityError when no candidate is exact.
    """
    import statistics

    from benchmarks.harness import PairedSpeedup

    candidates: dict[str, dict[str, Any]] = {}
    sessions: dict[str, Any] = {}
    for exporter, opset in EXPORT_CANDIDATES:
        name = candidate_name(exporter, opset)
        path = folder / f"{stem}.{name}.onnx"
        entry: dict[str, Any] = {"file": path.name}
        try:
            start = time.perf_counter()
            entry.update(export_onnx(model, workload, path, exporter, opset))
            entry["export_s"] = time.perf_counter() - start
            session = ort_session(path, ort_session_options(threads)[0])
            entry["parity_max_abs_diff"] = check_session_parity(model, session, workload, name)
            entry["exact"] = True
            sessions[name] = session
        except ParityError as exc:
            entry.update(exact=False, error=str(exc))
        except Exception as exc:  # an exporter that cannot convert the model is a candidate lost
            entry.update(exact=False, error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
        candidates[name] = entry
    if not sessions:
        raise ParityError(
            "no export matches PyTorch: " + "; ".join(f"{n}: {c['error']}" for n, c in candidates.items())
        )
    names = list(sessions)
    point = dict(getattr(workload, "REFERENCE_POINT", {"batch": 1}))
    rounds = time_candidates(sessions, workload.timing_inputs(point))
    for name in names:
        candidates[name]["p50_ms"] = statistics.median(x for r in rounds[name] for x in r)
    first = names[0]
    chosen, reason = first, "the only exact export" if len(names) == 1 else ""
    if len(names) > 1:
        speed = {n: PairedSpeedup.from_rounds(rounds[first], rounds[n]).median for n in names[1:]}
        for name in names[1:]:
            candidates[name]["speedup_over_first"] = speed[name]
        best = max(speed, key=lambda n: speed[n])
        if speed[best] >= EXPORT_MARGIN:
            chosen = best
            reason = f"exact, at {speed[best]:.2f}× the speed of {first} (threshold {EXPORT_MARGIN}×)"
        else:
            reason = (
                f"the first exact export; no other reached {EXPORT_MARGIN}× its speed "
                f"(closest: {best} at {speed[best]:.2f}×)"
            )
    lost = [n for n, c in candidates.items() if not c["exact"]]
    if lost:
        reason += "; not exact: " + ", ".join(lost)
    return {
        "candidates": candidates,
        "chosen": chosen,
        "reason": reason,
        "timed_at": point,
        "timing_rounds": EXPORT_TIMING["rounds"],
        "threads": threads,
    }


def candidates_text(choice: dict[str, Any]) -> str:
    """Each candidate export in a line of text, for pages (``bench:figure`` shows one value)."""
    parts = []
    first = next((n for n, c in choice["candidates"].items() if c["exact"]), "")
    for name, c in choice["candidates"].items():
        if not c["exact"]:
            parts.append(f"{name}: not exact ({c.get('error', '')[:120]})")
            continue
        text = (
            f"{name} (opset {c['opset']}): exact (max diff {c['parity_max_abs_diff']:.1e}), "
            f"p50 {c['p50_ms']:.3g} ms"
        )
        if c.get("speedup_over_first") is not None:
            text += f", {c['speedup_over_first']:.2f}× the speed of {first}"
        parts.append(text)
    return "; ".join(parts)


CHOICE_FILE = "choice.json"


def _weights_digest(model: Any) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def exported_model(
    model: Any, workload: ModuleType, threads: int, which: str = "chosen"
) -> tuple[Path, dict[str, Any]]:
    """The workload's ONNX export, made once and shared by every ONNX Runtime variant.

    ``which``: "chosen", the exact and fastest of the candidate exports (see
    ``choose_export``), "plain", what ``torch.onnx.export`` gives at its defaults, or a
    candidate's name ("torchscript-17").
    The export is an artifact of the store (``benchmarks.store``): variants of one experiment
    start together, and one exports while the others wait. The key covers the weights, the
    exporters' code and the package versions, so a changed model is exported again. The
    export time recorded is that of the file's export.
    """
    import json
    import shutil

    from benchmarks import store

    inputs = {
        "workload": workload.NAME,
        "weights": _weights_digest(model),
        "candidates": EXPORT_CANDIDATES,
        "example": {n: [list(a.shape), str(a.dtype)] for n, a in sorted(workload.example_inputs().items())},
    }
    made: list[bool] = []

    def make(folder: Path) -> None:
        folder.mkdir()
        choice = choose_export(model, workload, folder, workload.NAME, threads)
        for entry in choice["candidates"].values():
            if not entry["exact"]:
                (folder / entry["file"]).unlink(missing_ok=True)
        (folder / CHOICE_FILE).write_text(json.dumps(choice))
        made.append(True)

    def check(folder: Path) -> None:
        choice = json.loads((folder / CHOICE_FILE).read_text())
        for entry in choice["candidates"].values():
            if entry["exact"] and not (folder / entry["file"]).is_file():
                raise FileNotFoundError(entry["file"])

    folder = store.artifact(
        "onnx",
        inputs,
        make,
        code=(export_onnx, choose_export, ort_session_options),
        packages=("torch", "onnx", "onnxruntime", "onnxscript"),
        suffix=f"-{workload.NAME}",
        check=check,
    )
    # Exports of older weights or code are never read again; keep the cache bounded.
    for old in folder.parent.glob(f"*-{workload.NAME}"):
        if old != folder and old.is_dir() and old.name.partition("-")[2] == workload.NAME:
            shutil.rmtree(old, ignore_errors=True)
            Path(f"{old}.lock").unlink(missing_ok=True)
    choice = json.loads((folder / CHOICE_FILE).read_text())
    name = {"chosen": choice["chosen"], "plain": candidate_name(*PLAIN_EXPORT)}.get(which, which)
    entry = choice["candidates"][name]
    if not entry["exact"]:
        raise ParityError(f"the {which} export ({name}) does not match PyTorch: {entry['error']}")
    summary = {
        n: {k: c.get(k) for k in ("opset", "exact", "p50_ms", "speedup_over_first")}
        for n, c in choice["candidates"].items()
    }
    record = {
        **{k: entry[k] for k in ("exporter", "opset", "file_mb", "export_s")},
        "export_candidate": name,
        "export": which,
        "export_chosen": choice["chosen"],
        "export_choice_reason": choice["reason"],
        "export_candidates": summary,
        "export_candidates_text": candidates_text(choice),
        "export_reused": not made,
    }
    return folder / entry["file"], record


def build_onnxruntime(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """The chosen export, checked for parity, run with ONNX Runtime's CPU execution provider."""
    import torch

    torch.set_num_threads(threads)
    model = workload.torch_model()
    path, export_info = exported_model(model, workload, threads)
    export_s = export_info.pop("export_s")
    session_options, settings = ort_session_options(threads, options.get("opt_level", "all"))
    start = time.perf_counter()
    session = ort_session(path, session_options)
    session_s = time.perf_counter() - start
    worst = check_session_parity(model, session, workload, "ONNX Runtime")
    del model

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        return lambda: session.run(None, inputs)

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return session.run(None, inputs)[0]

    info = {
        "engine": "onnxruntime",
        "precision": "fp32",
        "providers": session.get_providers(),
        **settings,
        "onnx_file": str(path),
        "parity_max_abs_diff": worst,
        "parity_tolerance": workload.PARITY_ATOL,
        **export_info,
    }
    return Variant(bind, predict, info, {"export_s": export_s, "session_create_s": session_s})
