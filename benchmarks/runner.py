"""Runs experiments: each variant in its own worker process (``benchmarks.workers``),
rounds interleaved, results stored.

The runner itself never imports torch or onnxruntime.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import cache
from benchmarks import results as results_mod
from benchmarks.experiments import Experiment, Profile, VariantSpec
from benchmarks.harness import LatencyStats, PairedSpeedup
from benchmarks.machine import machine_card
from benchmarks.points import usable_cores
from benchmarks.results import ExperimentResult
from benchmarks.workers import (
    Worker,
    WorkerError,
    default_threads,
    import_builder,
    prepare_workload,
    start_worker,
    wait_until_idle,
    worker_main,
)

# A point whose per-round medians vary more than this (their coefficient of
# variation) is measured again once; if it stays above, the page flags it as noisy.
# Per-call CV is reported too, but heavy tails of sub-millisecond calls make it a
# poor judge of whether the median itself is stable.
NOISY_CV = 0.10


def run_experiment(
    exp: Experiment, prof: Profile, card: dict[str, Any], progress: Callable[[str], None] = print
) -> ExperimentResult:
    """Run one experiment; any failure becomes a failed result, never an exception."""
    threads = exp.threads or default_threads()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    result = ExperimentResult(
        experiment=exp.name,
        status="ok",
        profile=prof.name,
        config={**exp.config(prof), "threads": threads, "noisy_cv": NOISY_CV},
        machine=card,
        cache_key=cache.key_of(inputs := cache.cache_inputs(exp, prof, card)),
        cache_inputs=inputs,
        started=started,
    )
    workers: list[Worker] = []
    deadline = time.monotonic() + prof.timeout_s
    skip_reason = _skip_reason(exp)
    if skip_reason:
        result.status, result.reason = "skipped", skip_reason
        result.duration_s = time.perf_counter() - t0
        return result
    try:
        result.one_time_costs["prepare"] = prepare_workload(exp.workload, prof.timeout_s)
        # As many builds at a time as there are cores. All at once oversubscribed a
        # 2-core machine (seven ResNet-50 builders with their own spinning thread pools
        # took twice as long as the same builds in a row, and their one-time costs
        # measured the crowd); one at a time left a core idle during single-threaded
        # exports and imports.
        result.skipped_variants = {
            spec.name: reason
            for spec in exp.variants[1:]
            if spec.requires and (reason := import_builder(spec.requires)())
        }
        pending = [v for v in exp.variants if v.name not in result.skipped_variants]
        building: dict[Connection, Worker] = {}
        ready_at: dict[str, dict[str, Any]] = {}
        while pending or building:
            while pending and len(building) < usable_cores():
                spec = pending.pop(0)
                workdir = Path(tempfile.mkdtemp(prefix="bench-"))
                worker_spec = {
                    "workdir": str(workdir),
                    "workload": exp.workload,
                    "builder": spec.builder,
                    "options": spec.options,
                    "threads": threads,
                    "settings": prof.settings.__dict__,
                    "training_scale": prof.training_scale,
                }
                worker = start_worker(
                    spec.name,
                    worker_main,
                    worker_spec,
                    prof.timeout_s,
                    fresh=spec.fresh_process,
                    workdir=workdir,
                )
                workers.append(worker)
                building[worker.conn] = worker
            finished = wait(list(building), timeout=prof.timeout_s)
            if not finished:
                names = ", ".join(w.name for w in building.values())
                raise WorkerError(f"variant {names}: not built within {prof.timeout_s:.0f} s (timeout)")
            for conn in finished:
                worker = building.pop(conn)  # type: ignore[call-overload]  # wait() returns what it was given
                ready_at[worker.name] = worker.receive()
                progress(f"  {worker.name}: ready after {time.perf_counter() - t0:.1f} s")
        # Declared order from here on, whichever build finished first: the baseline's
        # outputs are the quality reference, and tables and rounds follow this order.
        declared = [v.name for v in exp.variants]
        workers.sort(key=lambda w: declared.index(w.name))
        for worker in workers:
            ready = ready_at[worker.name]
            result.variants[worker.name] = {"info": ready["info"]}
            result.one_time_costs[worker.name] = ready["one_time_costs"]

        # One evaluation at a time too: evaluating beside a build slowed both. Outputs that an
        # earlier experiment stored for the same pure builder and options are reused.
        reference = None
        specs = {v.name: v for v in exp.variants}  # (skipped variants have no worker)
        for worker in workers:
            stored = _outputs_file(exp, specs[worker.name], prof, card, threads)
            outputs = _read_outputs(stored) if stored is not None else None
            if (
                stored is not None
                and outputs is not None
                and (reference is None or outputs.shape == reference.shape)
            ):
                result.variants[worker.name]["info"]["eval_outputs_reused_from"] = stored.name
            else:
                outputs = worker.request("eval", prof.eval_limit)
                if stored is not None:
                    _write_outputs(stored, outputs)
            reference = outputs if reference is None else reference
            metrics = _workload_quality(exp.workload, outputs, reference)
            result.variants[worker.name]["quality"] = metrics
        progress(f"  quality measured after {time.perf_counter() - t0:.1f} s")

        points = exp.points(prof)
        for index, point in enumerate(points, 1):
            label = f"[{index}/{len(points)}] {_point_label(point)}"
            for worker in workers:
                worker.request("point", point)
            for attempt in range(1, prof.noise_repeats + 2):
                rounds = _measure_point(
                    workers, prof.settings.rounds, deadline, prof.timeout_s, is_reference(exp.workload, point)
                )
                summary = _summarise_point(point, rounds, exp.baseline.name)
                cvs = {name: row["round_cv"] for name, row in summary["variants"].items()}
                noisy = sorted(name for name, cv in cvs.items() if cv > NOISY_CV)
                if not noisy:
                    break
                if attempt <= prof.noise_repeats:
                    progress(f"  {label}: noisy ({', '.join(noisy)}), measuring again")
            summary["attempts"] = attempt
            summary["noisy"] = noisy
            result.points.append(summary)
            p50s = (f"{name} p50 {row['latency']['p50']:.3g} ms" for name, row in summary["variants"].items())
            elapsed = time.perf_counter() - t0
            left = elapsed / index * (len(points) - index)  # a rough guess: later points are often larger
            progress(f"  {label}: " + ", ".join(p50s) + (f" (about {left:.0f} s left)" if left else ""))
        loaded: dict[str, set[str]] = {"sources": set(), "packages": set()}
        for worker in workers:
            stopped = worker.request("stop")
            result.variants[worker.name]["memory"] = stopped["memory"]
            for kind in loaded:
                loaded[kind] |= set(stopped["loaded"][kind])
        # Keyed on what the workers really loaded, beside what the experiment declares.
        result.cache_inputs = cache.cache_inputs(exp, prof, card, {k: sorted(v) for k, v in loaded.items()})
        result.cache_key = cache.key_of(result.cache_inputs)
        for worker in workers:
            worker.close(grace_s=10)
    except Exception as exc:
        result.status = "failed"
        result.reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        result.variants.setdefault("_error", {})["detail"] = str(exc)[-4000:]
    finally:
        for worker in workers:
            worker.close()
    result.duration_s = time.perf_counter() - t0
    return result


def _outputs_file(
    exp: Experiment, variant: VariantSpec, profile: Profile, card: dict[str, Any], threads: int
) -> Path | None:
    """Where a pure variant's evaluation outputs are kept, so that later experiments with
    the same variant (same code, options, packages, machine, threads) reuse them."""
    from benchmarks.workloads import cache_dir

    key = cache.outputs_key(exp, variant, profile, card, threads)
    return None if key is None else cache_dir() / "outputs" / f"{exp.workload}-{key}.npy"


def _read_outputs(path: Path) -> np.ndarray | None:
    """The stored outputs, or None (then they are computed again) if missing or unreadable."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def _write_outputs(path: Path, outputs: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as tmp:
        np.save(tmp, outputs, allow_pickle=False)
    os.replace(tmp.name, path)


def _skip_reason(exp: Experiment) -> str | None:
    """Why this machine cannot run the experiment (a missing GPU or library), or None."""
    if exp.requires is None:
        return None
    return import_builder(exp.requires)()


def is_reference(workload: str, point: dict[str, int]) -> bool:
    """Whether ``point`` is the workload's reference point (the one verdicts and recipes read):
    it agrees with ``REFERENCE_POINT`` on every parameter that names; a point may add others
    (ResNet-50's low-rank grid names its image size)."""
    from benchmarks import workloads

    reference = workloads.get(workload).REFERENCE_POINT
    return all(point.get(k) == v for k, v in reference.items())


def _measure_point(
    workers: list[Worker], n_rounds: int, deadline: float, timeout_s: float, reference: bool = False
) -> dict[str, list[list[float]]]:
    """Interleaved rounds, each variant once per round; round r starts at variant r
    (mod their number): A B C, B C A, C A B, ... No variant is always the one timed
    right after the baseline, or always first after the pause, so what one worker
    leaves behind (a busy core, evicted caches) falls on each variant in turn; the
    rounds stay paired, since each holds every variant once."""
    rounds: dict[str, list[list[float]]] = {w.name: [] for w in workers}
    for r in range(n_rounds):
        start = r % len(workers)
        for worker in workers[start:] + workers[:start]:
            if time.monotonic() > deadline:
                raise WorkerError(f"experiment ran past its {timeout_s:.0f} s limit (timeout)")
            rounds[worker.name].append(worker.request("round", reference))
            wait_until_idle(worker.process.pid or 0)
    return rounds


def _workload_quality(workload: str, outputs: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    from benchmarks import workloads

    return workloads.get(workload).quality(outputs, reference)


def _point_label(point: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in point.items())


def _summarise_point(
    point: dict[str, int], rounds: dict[str, list[list[float]]], baseline: str
) -> dict[str, Any]:
    variants = {}
    for name, per_round in rounds.items():
        stats = LatencyStats.from_values([x for r in per_round for x in r])
        medians = [statistics.median(r) for r in per_round]
        entry: dict[str, Any] = {
            "latency": stats.to_dict(),
            "round_medians": medians,
            "round_cv": statistics.stdev(medians) / statistics.mean(medians) if len(medians) > 1 else 0.0,
            "throughput_per_s": point.get("batch", 1) * 1000.0 / stats.p50,
        }
        if name != baseline:
            entry["speedup"] = PairedSpeedup.from_rounds(rounds[baseline], per_round).to_dict()
        variants[name] = entry
    return {"params": point, "variants": variants}


def state(exp: Experiment, profile: Profile, card: dict[str, Any], directory: Path) -> tuple[str, list[str]]:
    """up-to-date, stale, failed, skipped, not-run or unreadable, with the reasons."""
    try:
        stored, failure = results_mod.load_experiment(exp.name, directory)
    except results_mod.ResultsError as exc:
        return "unreadable", [str(exc)]
    if stored is None:
        return "not-run", []
    if stored.status != "ok":
        return stored.status, [stored.reason or ""]
    reasons = cache.stale_reasons(stored, cache.stored_inputs(exp, profile, card, stored))
    if reasons:
        return "stale", reasons
    if failure is not None:
        verb = "was skipped" if failure.status == "skipped" else "failed"
        return "up-to-date", [f"a later run {verb}: {failure.reason}"]
    return "up-to-date", []


def _estimate_s(exp: Experiment, directory: Path) -> float | None:
    """How long the experiment took last time, if it ever ran here."""
    try:
        stored, failure = results_mod.load_experiment(exp.name, directory)
    except results_mod.ResultsError:
        return None
    last = failure or stored
    return last.duration_s if last is not None and last.duration_s > 0 else None


def run_all(
    experiments: list[Experiment],
    profile: Profile,
    directory: Path | None = None,
    force: bool = False,
    progress: Callable[[str], None] = print,
) -> list[tuple[Experiment, str, Path | None]]:
    """Run each experiment that is not up to date; one failure never stops the others."""
    directory = directory or results_mod.results_dir()
    card = machine_card()
    outcomes: list[tuple[Experiment, str, Path | None]] = []
    todo = []
    for exp in experiments:
        up_to_date = state(exp, profile, card, directory)[0] == "up-to-date"
        todo.append((exp, force or not up_to_date, _estimate_s(exp, directory)))
    remaining = sum(est or 0 for _, run, est in todo if run)
    for i, (exp, run, estimate) in enumerate(todo, 1):
        tag = f"[{i}/{len(todo)}] {exp.name}"
        if not run:
            progress(f"{tag}: up to date")
            outcomes.append((exp, "up-to-date", None))
            continue
        guess = f", about {estimate:.0f} s, {remaining / 60:.1f} min left in all" if estimate else ""
        progress(f"{tag} (profile {profile.name}{guess}) ...")
        result = run_experiment(exp, profile, card, progress)
        remaining = max(0.0, remaining - (estimate or 0))
        path = results_mod.save(result, directory)
        note = f": {result.reason}" if result.reason else ""
        progress(f"{tag}: {result.status} in {result.duration_s:.1f} s{note} -> {path}")
        outcomes.append((exp, result.status, path))
    return outcomes
