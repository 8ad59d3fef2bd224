"""Variant builders that misbehave on purpose, run inside real worker processes."""

from __future__ import annotations

import os
import signal
import time


def build_crashing(workload, options, threads, workdir):
    """Dies the way a broken native runtime does: a signal, no Python traceback."""
    os.kill(os.getpid(), signal.SIGSEGV)


def build_raising(workload, options, threads, workdir):
    raise RuntimeError("this variant cannot be built here")


def build_hanging(workload, options, threads, workdir):
    time.sleep(3600)


def build_killed(workload, options, threads, workdir):
    """Dies as the kernel's out-of-memory killer would make it."""
    os.kill(os.getpid(), signal.SIGKILL)


def build_jittery(workload, options, threads, workdir):
    """Rounds whose median swings by 10x: a measurement that stays noisy."""
    import itertools

    import numpy as np

    from benchmarks.engines import Variant

    pattern = itertools.cycle([0.0005] * 3 + [0.005] * 3)

    def bind(inputs):
        return lambda: time.sleep(next(pattern))

    def predict(inputs):
        return np.zeros((len(inputs["images"]), 10), dtype=np.float32)

    return Variant(bind, predict, {"engine": "sleep"}, {})


def build_hungry_evaluation(workload, options, threads, workdir):
    """Serves from a few kilobytes but needs 400 MB to evaluate."""
    import numpy as np

    from benchmarks.engines import Variant

    def predict(inputs):
        scratch = np.ones(400 * 2**20 // 8)  # touched, so resident
        return np.zeros((len(inputs["images"]), 10), dtype=np.float32) + scratch[0] - 1.0

    return Variant(lambda inputs: lambda: None, predict, {"engine": "none"}, {})


def missing_gpu():
    """A requirement check that always fails, as on a machine without the hardware."""
    return "no NVIDIA GPU on this machine (test)"


def build_held(workload, options, threads, workdir):
    """Answers like a tiny model, but each timed call waits while the test's hold file exists.

    Its first call writes ``<hold file>.inside``: the test then knows the run is inside a
    timed region, whatever the machine's speed, and interrupts it there.
    """
    from pathlib import Path

    import numpy as np

    from benchmarks.engines import Variant

    hold = Path(os.environ["BENCH_TEST_HOLD_FILE"])

    def call():
        hold.with_suffix(".inside").touch()
        while hold.exists():
            time.sleep(0.02)

    def predict(inputs):
        return np.zeros((len(inputs["images"]), 10), dtype=np.float32)

    return Variant(lambda inputs: call, predict, {"engine": "held"}, {})


def never_here():
    """A variant's ``requires``: this machine cannot run it (as LiteRT without an aarch64 wheel)."""
    return "no wheel of <this engine> for this machine"


def always_here():
    return None
