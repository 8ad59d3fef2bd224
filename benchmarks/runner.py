"""Runs experiments: each variant in its own worker process, rounds interleaved.

The runner itself never imports torch or onnxruntime. Workers fork from a server
that has imported torch and numpy once (see PRELOAD) and then set their own
thread pools, so two engines' pools never share a process; a variant whose
settings must precede `import torch` asks for a fresh interpreter instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import multiprocessing as mp
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import cache
from benchmarks import results as results_mod
from benchmarks.experiments import TRAINING_SCALE_ENV, Experiment, VariantSpec, get_profile
from benchmarks.harness import LatencyStats, MeasureSettings, PairedSpeedup, measure_round, warm_up
from benchmarks.machine import machine_card
from benchmarks.results import ExperimentResult

PAUSE_BETWEEN_ROUNDS_S = 0.01  # at least this between rounds, where a worker's CPU time cannot be read
# After its round, a worker's thread pools may keep spinning (ONNX Runtime with its default
# allow_spinning, OpenMP, XNNPACK): on a 2-core machine the next worker's round would pay for
# it. Its threads' CPU time is read until it stops growing, up to IDLE_CAP_S.
# The kernel adds a running thread's time at scheduler ticks (up to 4 ms apart), so a window
# must span a few ticks to see a spinning thread at all.
IDLE_WINDOW_S = 0.01
IDLE_BUSY_NS = 1_000_000  # CPU time in one window below which the worker counts as idle
IDLE_CAP_S = 0.5
# A point whose per-round medians vary more than this (their coefficient of
# variation) is measured again once; if it stays above, the page flags it as noisy.
# Per-call CV is reported too, but heavy tails of sub-millisecond calls make it a
# poor judge of whether the median itself is stable.
NOISY_CV = 0.10


class WorkerError(RuntimeError):
    """A worker raised, crashed, or ran out of time."""


# --------------------------------------------------------------------------- worker side


def _import_builder(path: str) -> Callable[..., Any]:
    module_name, _, func = path.partition(":")
    return getattr(importlib.import_module(module_name), func)


def _worker_main(conn: Connection, spec: dict[str, Any]) -> None:
    """Entry point of a worker process: build one variant, then serve commands."""
    threads = spec["threads"]
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ[TRAINING_SCALE_ENV] = str(spec["training_scale"])
    try:
        _limit_preloaded_pools(threads)
        from benchmarks import workloads

        workload = workloads.get(spec["workload"])
        settings = MeasureSettings(**spec["settings"])
        variant = _import_builder(spec["builder"])(workload, spec["options"], threads, Path(spec["workdir"]))
        conn.send(("ready", {"info": variant.info, "one_time_costs": variant.one_time_costs}))
        call: Callable[[], Any] | None = None
        call_ms: float | None = None  # a typical call's latency, from the warm-up or the last round
        serving, before_serving_mb = False, None
        while True:
            command, arg = conn.recv()
            if command == "point":
                if not serving:  # memory from here on: the model served, not its build or evaluation
                    before_serving_mb = _vm_hwm_mb()
                    serving = _reset_peak_rss()
                call = variant.bind(workload.timing_inputs(arg))
                start = time.perf_counter()
                warmed = warm_up(call, settings)
                call_ms = 1000 * (time.perf_counter() - start) / warmed if warmed else None
                conn.send(("ok", warmed))
            elif command == "round":
                assert call is not None, "round before point"
                samples = measure_round(call, settings, reference=bool(arg), call_ms=call_ms)
                call_ms = statistics.median(samples)
                conn.send(("ok", samples))
            elif command == "eval":
                outputs = [variant.predict(batch) for batch in workload.eval_batches(arg)]
                conn.send(("ok", np.concatenate(outputs)))
            elif command == "stop":
                from benchmarks.cache import loaded_code

                conn.send(
                    ("ok", {"memory": _memory_record(serving, before_serving_mb), "loaded": loaded_code()})
                )
                _exit_now(0)
    except BaseException as exc:  # report anything, then exit non-zero
        with contextlib.suppress(OSError):
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"))
        _exit_now(1)


def _reset_peak_rss() -> bool:
    """Start the peak resident memory again from the current one (Linux: clear_refs 5).

    Whether a variant's evaluation ran in its worker or its outputs were reused from
    an earlier experiment must not change its memory figure, and a build's transient
    peak (an export, a calibration) is not what the model needs to serve. Memory the
    build freed is handed back to the system first (glibc's malloc_trim), or a worker
    that exported a model would count the export's leftovers. The reset clears
    getrusage's maximum too, so the peak before it is read first. (No gc.collect():
    0.3 s per worker with torch loaded, a minute over a run.)"""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _vm_hwm_mb() is not None
    except OSError:
        return False


def _vm_hwm_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _memory_record(serving: bool, before_serving_mb: float | None) -> dict[str, Any]:
    now = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    lifetime = max(now, before_serving_mb or 0.0)
    peak = _vm_hwm_mb() if serving else None
    if peak is None:
        return {"peak_rss_mb": lifetime, "peak_scope": "lifetime", "lifetime_peak_rss_mb": lifetime}
    return {"peak_rss_mb": peak, "peak_scope": "serving", "lifetime_peak_rss_mb": lifetime}


def _limit_preloaded_pools(threads: int) -> None:
    """The forkserver imported torch and numpy before this worker's thread count was known."""
    if "torch" not in sys.modules:
        return  # a fresh process: the environment above applies
    import threadpoolctl
    import torch

    threadpoolctl.threadpool_limits(threads)
    torch.set_num_threads(threads)


def _exit_now(code: int) -> None:
    """Leave without the interpreter's teardown, which takes seconds once torch,
    OpenVINO and transformers are loaded; everything worth keeping was sent.
    The runner removes the work directory."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


# --------------------------------------------------------------------------- runner side


@dataclass
class Worker:
    name: str
    process: mp.Process
    conn: Connection
    timeout_s: float
    role: str = "variant"
    workdir: Path | None = None

    def request(self, command: str, arg: Any = None) -> Any:
        self.conn.send((command, arg))
        return self.receive()

    def receive(self) -> Any:
        if not self.conn.poll(self.timeout_s):
            raise WorkerError(f"{self.role} {self.name}: no answer within {self.timeout_s:.0f} s (timeout)")
        try:
            kind, payload = self.conn.recv()
        except (EOFError, ConnectionResetError):
            self.process.join(5)
            raise WorkerError(
                f"{self.role} {self.name}: worker process died ({_exit_cause(self.process.exitcode)})"
            ) from None
        if kind == "error":
            raise WorkerError(f"{self.role} {self.name}: {payload}")
        return payload

    def close(self, grace_s: float = 0.0) -> None:
        """Let a worker that was told to stop exit by itself; kill one that is stuck."""
        self.process.join(grace_s)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _exit_cause(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# Workers fork from one server process that has already imported these, instead
# of each paying for the imports again: torch about 2 s of CPU a worker, the
# transformers model stack about 4 s (it pulls in torchao), sentence-transformers
# about 1.5 s, onnxscript (the ONNX exporter) and scikit-learn's datasets about 1 s
# each. Nothing that depends on the worker's thread count is fixed at import: each
# worker sets its pools explicitly (`_limit_preloaded_pools`, and every builder for
# its engine). Engines that start thread pools of their own when imported (ONNX
# Runtime, OpenVINO) are left out: a fork copies no threads, only their half-made
# state.
# A module that is not installed is skipped by the forkserver.
PRELOAD = [
    "numpy",
    "torch",
    "threadpoolctl",
    "transformers.modeling_utils",
    "transformers.models.bert.modeling_bert",
    "sentence_transformers",
    "onnxscript",
    "sklearn.datasets",
    "sklearn.model_selection",
]


@functools.cache
def _context(fresh: bool) -> mp.context.BaseContext:
    if fresh:
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["benchmarks", *PRELOAD])
    return ctx


def _start_worker(
    name: str,
    target: Callable[..., None],
    arg: Any,
    timeout_s: float,
    role: str = "variant",
    fresh: bool = False,
    workdir: Path | None = None,
) -> Worker:
    """A process of its own that answers over a pipe: ``target(conn, arg)``; the runner
    removes ``workdir`` when the worker is closed, however the worker ended."""
    ctx = _context(fresh)
    parent, child = ctx.Pipe()
    process = ctx.Process(target=target, args=(child, arg), name=f"bench-{name}", daemon=True)
    process.start()
    child.close()
    return Worker(name, process, parent, timeout_s, role, workdir)


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_threads() -> int:
    """Threads per worker: one per usable physical core, as PyTorch, ONNX Runtime and OpenVINO
    each choose by default (SMT siblings share one core's execution units, so a second thread
    on them mostly waits); the logical count where the kernel does not report the topology."""
    from benchmarks.machine import physical_cores

    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return (physical_cores(cpus) if cpus else None) or usable_cores()


def _prepare_main(conn: Connection, name: str) -> None:
    """Train or verify a workload in a process of its own (training imports torch)."""
    try:
        from benchmarks import workloads

        conn.send(("ok", workloads.get(name).prepare()))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        _exit_now(1)
    _exit_now(0)


def _prepare_workload(name: str, timeout_s: float) -> dict[str, Any]:
    worker = _start_worker(name, _prepare_main, name, timeout_s, role="preparing workload")
    try:
        return worker.receive()
    finally:
        worker.close(grace_s=10)


def run_experiment(
    exp: Experiment, profile: str, card: dict[str, Any], progress: Callable[[str], None] = print
) -> ExperimentResult:
    """Run one experiment; any failure becomes a failed result, never an exception."""
    prof = get_profile(profile)
    threads = exp.threads or default_threads()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    result = ExperimentResult(
        experiment=exp.name,
        status="ok",
        profile=profile,
        config={**exp.config(profile), "threads": threads, "noisy_cv": NOISY_CV},
        machine=card,
        cache_key=cache.key_of(inputs := cache.cache_inputs(exp, profile, card)),
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
        result.one_time_costs["prepare"] = _prepare_workload(exp.workload, prof.timeout_s)
        # As many builds at a time as there are cores. All at once oversubscribed a
        # 2-core machine (seven ResNet-50 builders with their own spinning thread pools
        # took twice as long as the same builds in a row, and their one-time costs
        # measured the crowd); one at a time left a core idle during single-threaded
        # exports and imports.
        pending = list(exp.variants)
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
                worker = _start_worker(
                    spec.name,
                    _worker_main,
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
                worker = building.pop(conn)
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
        specs = {v.name: v for v in exp.variants}
        for worker in workers:
            stored = _outputs_file(exp, specs[worker.name], profile, card, threads)
            outputs = _read_outputs(stored) if stored is not None else None
            if outputs is not None and (reference is None or outputs.shape == reference.shape):
                result.variants[worker.name]["info"]["eval_outputs_reused_from"] = stored.name
            else:
                outputs = worker.request("eval", prof.eval_limit)
                if stored is not None:
                    _write_outputs(stored, outputs)
            reference = outputs if reference is None else reference
            metrics = _workload_quality(exp.workload, outputs, reference)
            result.variants[worker.name]["quality"] = metrics
        progress(f"  quality measured after {time.perf_counter() - t0:.1f} s")

        points = exp.points(profile)
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
        result.cache_inputs = cache.cache_inputs(
            exp, profile, card, {k: sorted(v) for k, v in loaded.items()}
        )
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
    exp: Experiment, variant: VariantSpec, profile: str, card: dict[str, Any], threads: int
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
    return _import_builder(exp.requires)()


def _cpu_ns(pid: int) -> int | None:
    """CPU time of all of a process's threads so far (Linux schedstat), or None where unreadable."""
    total, seen = 0, False
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as fh:
                total += int(fh.read().split()[0])
                seen = True
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total if seen else None


def wait_until_idle(pid: int) -> float | None:
    """Wait until a worker's threads stop using the CPU; the seconds waited, or None when its CPU
    time cannot be read (then a fixed pause stands in) or it was still busy at the cap."""
    start = time.monotonic()
    before = _cpu_ns(pid)
    if before is None:
        time.sleep(PAUSE_BETWEEN_ROUNDS_S)
        return None
    while time.monotonic() - start < IDLE_CAP_S:
        time.sleep(IDLE_WINDOW_S)
        now = _cpu_ns(pid)
        if now is None or now - before < IDLE_BUSY_NS:
            return time.monotonic() - start
        before = now
    return None


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
            wait_until_idle(worker.process.pid)
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


def state(exp: Experiment, profile: str, card: dict[str, Any], directory: Path) -> tuple[str, list[str]]:
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
    profile: str,
    directory: Path | None = None,
    force: bool = False,
    progress: Callable[[str], None] = print,
) -> list[tuple[Experiment, str, Path | None]]:
    """Run each experiment that is not up to date; one failure never stops the others."""
    get_profile(profile)
    directory = directory or results_mod.results_dir()
    card = machine_card()
    outcomes = []
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
        progress(f"{tag} (profile {profile}{guess}) ...")
        result = run_experiment(exp, profile, card, progress)
        remaining = max(0.0, remaining - (estimate or 0))
        path = results_mod.save(result, directory)
        note = f": {result.reason}" if result.reason else ""
        progress(f"{tag}: {result.status} in {result.duration_s:.1f} s{note} -> {path}")
        outcomes.append((exp, result.status, path))
    return outcomes
