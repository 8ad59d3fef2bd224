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
