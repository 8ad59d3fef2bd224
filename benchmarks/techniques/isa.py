"""SIMD width (the other half of C4): the same model with its kernels capped at 128-bit (SSE4),
256-bit (AVX2) or the widest vectors this CPU has, each cap set before torch loads and checked
against what the kernels report.

Top-level imports stay light: the builder refuses to run if torch was loaded before its cap was set.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.points import grid

# Each cap names the widest vector instructions three kernel libraries may use:
# ATen's own kernels, oneDNN (convolutions, some matmuls) and MKL (BLAS).
ISA_CAPS: dict[str, dict[str, str]] = {
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "sse": {
        "ATEN_CPU_CAPABILITY": "default",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    },
}
ATEN_RANK = {"DEFAULT": 0, "AVX2": 1, "AVX512": 2}
CAP_RANK = {"sse": 0, "avx2": 1, "native": 2}
SIMD_BITS = {"DEFAULT": 128, "AVX2": 256, "AVX512": 512}


# platform.machine() of the CPUs whose instruction sets the caps name (SSE4, AVX2, AVX-512).
X86_MACHINES = ("x86_64", "amd64", "i386", "i686")


def x86_only() -> str | None:
    """Why this machine cannot run the caps (the runner records the experiment as skipped), or None."""
    machine = platform.machine()
    if machine.lower() in X86_MACHINES:
        return None
    return (
        f"the SIMD caps (128-bit SSE4, 256-bit AVX2) are x86 instruction sets; this CPU is "
        f"{machine or 'of an unknown architecture'}"
    )


class IsaCapError(RuntimeError):
    """A SIMD cap could not be applied, or the kernels report wider vectors than the cap allows."""


def _capture_stdout(fn: Callable[[], Any]) -> str:
    """What C libraries print to file descriptor 1 while ``fn`` runs (their verbose logs)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            fn()
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        sink.seek(0)
        return sink.read().decode(errors="replace")


def kernel_isa_report(model: Any, inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """The instruction sets the kernels really dispatched to, read from MKL's and oneDNN's logs."""
    import torch

    tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}

    def run() -> None:
        with (
            torch.backends.mkl.verbose(torch.backends.mkl.VERBOSE_ON),
            torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON),
            torch.inference_mode(),
        ):
            model(**tensors)
        # One plain SGEMM, so MKL reports its ISA even when the model calls no BLAS.
        with torch.backends.mkl.verbose(torch.backends.mkl.VERBOSE_ON):
            torch.mm(torch.ones(64, 64), torch.ones(64, 64))

    log = _capture_stdout(run)
    mkl = re.search(r"MKL_VERBOSE oneMKL.*? architecture (.*?)(?: enabled processors)?, Lnx", log)
    onednn = re.search(r"onednn_verbose,.*?info,cpu,isa:([^\n]*)", log)
    kernels = sorted(set(re.findall(r"onednn_verbose,.*?primitive,exec,cpu,[a-z_]+,([^,]+),", log)))
    return {
        "aten_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl_isa": mkl.group(1).strip() if mkl else "no MKL call seen",
        "onednn_isa": onednn.group(1).strip() if onednn else "no oneDNN call seen",
        "onednn_kernels": kernels,
    }


# --8<-- [start:isa]
def build_isa(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """The eager FP32 model with its kernels capped at one SIMD width, set before torch loads."""
    cap = options["isa"]
    if "torch" in sys.modules:
        raise IsaCapError("torch was imported before the SIMD cap was set; the cap would not apply")
    for name in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS"):
        os.environ.pop(name, None)  # "native" means no cap, whatever the parent environment said
    os.environ.update(ISA_CAPS[cap])
    import torch

    # --8<-- [end:isa]
    from benchmarks.engines.pytorch import torch_variant

    capability = torch.backends.cpu.get_cpu_capability()
    if ATEN_RANK.get(capability, 0) > CAP_RANK[cap]:
        raise IsaCapError(f"cap {cap!r} set, but ATen reports {capability}")
    torch.set_num_threads(threads)
    start = time.perf_counter()
    model = workload.torch_model()
    load_s = time.perf_counter() - start
    report = kernel_isa_report(model, workload.example_inputs())
    return torch_variant(
        model,
        {"load_s": load_s},
        method="simd-cap",
        isa_cap=cap,
        isa_env=ISA_CAPS[cap],
        simd_bits=SIMD_BITS.get(capability, 0),
        **report,
    )


ISA_VARIANTS = (
    VariantSpec(
        "isa-native",
        "PyTorch eager FP32, widest SIMD of this CPU",
        "PyTorch eager FP32,本机最宽 SIMD",
        "benchmarks.techniques.isa:build_isa",
        {"isa": "native"},
        fresh_process=True,
    ),
    VariantSpec(
        "isa-avx2",
        "Capped at 256-bit AVX2",
        "限制为 256 位 AVX2",
        "benchmarks.techniques.isa:build_isa",
        {"isa": "avx2"},
        fresh_process=True,
    ),
    VariantSpec(
        "isa-sse",
        "Capped at 128-bit SSE4",
        "限制为 128 位 SSE4",
        "benchmarks.techniques.isa:build_isa",
        {"isa": "sse"},
        fresh_process=True,
    ),
)


# The technique stays "principles": the page's name, stored in every result's configuration.
EXPERIMENTS = [
    Experiment(
        name="isa/minilm",
        technique="principles",
        workload="minilm",
        variants=ISA_VARIANTS,
        requires="benchmarks.techniques.isa:x86_only",
        grids={
            "toy": grid((1,), (16,)),
            # The 128-bit variant is several times slower: the default grid keeps it within budget.
            "default": ({"batch": 1, "seq_len": 128}, {"batch": 8, "seq_len": 32}),
            "full": grid((1, 8, 32), (128,)),
        },
    ),
    Experiment(
        name="isa/digits-cnn",
        technique="principles",
        workload="digits-cnn",
        variants=ISA_VARIANTS,
        requires="benchmarks.techniques.isa:x86_only",
        grids={"toy": grid((1, 32)), "default": grid((1, 32)), "full": grid((1, 32, 256))},
    ),
]
