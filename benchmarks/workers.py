"""Worker processes: each variant is built, evaluated and timed in a process of its own.

Workers fork from a server that has imported torch and numpy once (see PRELOAD) and then
set their own thread pools, so two engines' pools never share a process; a variant whose
settings must precede `import torch` asks for a fresh interpreter instead. Between rounds
the runner waits until a worker's threads have stopped using the CPU (``wait_until_idle``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import multiprocessing as mp
import os
import resource
import shutil
import signal
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.experiments import TRAINING_SCALE_ENV
from benchmarks.harness import MeasureSettings, measure_round, warm_up
from benchmarks.points import usable_cores

PAUSE_BETWEEN_ROUNDS_S = 0.01  # at least this between rounds, where a worker's CPU time cannot be read
# After its round, a worker's thread pools may keep spinning (ONNX Runtime with its default
# allow_spinning, OpenMP, XNNPACK): on a 2-core machine the next worker's round would pay for
# it. Its threads' CPU time is read until it stops growing, up to IDLE_CAP_S.
# The kernel adds a running thread's time at scheduler ticks (up to 4 ms apart), so a window
# must span a few ticks to see a spinning thread at all.
IDLE_WINDOW_S = 0.01
IDLE_BUSY_NS = 1_000_000  # CPU time in one window below which the worker counts as idle
IDLE_CAP_S = 0.5


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


class WorkerError(RuntimeError):
    """A worker raised, crashed, or ran out of time."""


# --------------------------------------------------------------------------- worker side


def import_builder(path: str) -> Callable[..., Any]:
    module_name, _, func = path.partition(":")
    return getattr(importlib.import_module(module_name), func)


def worker_main(conn: Connection, spec: dict[str, Any]) -> None:
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
        variant = import_builder(spec["builder"])(workload, spec["options"], threads, Path(spec["workdir"]))
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
    process: mp.process.BaseProcess
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
def _context(fresh: bool) -> mp.context.SpawnContext | mp.context.ForkServerContext:
    if fresh:
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["benchmarks", *PRELOAD])
    return ctx


def start_worker(
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


def prepare_workload(name: str, timeout_s: float) -> dict[str, Any]:
    worker = start_worker(name, _prepare_main, name, timeout_s, role="preparing workload")
    try:
        return worker.receive()
    finally:
        worker.close(grace_s=10)
