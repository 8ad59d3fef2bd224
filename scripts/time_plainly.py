"""Time variants of an experiment the plain way, outside the harness: each variant in a process
of its own that builds it, warms it up for a second, then calls it in a loop for ``--seconds``
and reports the median; rounds interleave the variants (A B A B ...), and the script prints each
variant's per-round medians and the median, over rounds, of the first variant's round median
divided by each other's.

    .venv/bin/python scripts/time_plainly.py recipes/minilm openvino-defaults recipe-ort-int8-dynamic-pc \\
        --point batch=1,seq_len=128 --rounds 5 --seconds 3

A margin that only the harness sees is not one: this is the check a reader can run by hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

ONE = """
import json, statistics, sys, tempfile, time
from pathlib import Path
from benchmarks import workloads
from benchmarks.experiments import get_experiment
from benchmarks.workers import default_threads
from benchmarks.workers import import_builder
exp = get_experiment(%(exp)r)
spec = next(v for v in exp.variants if v.name == %(variant)r)
workload = workloads.get(exp.workload)
threads = exp.threads or default_threads()
variant = import_builder(spec.builder)(workload, spec.options, threads, Path(tempfile.mkdtemp()))
call = variant.bind(workload.timing_inputs(%(point)r))
end = time.perf_counter() + 1.0
while time.perf_counter() < end:
    call()
samples, end = [], time.perf_counter() + %(seconds)f
while time.perf_counter() < end:
    t0 = time.perf_counter_ns()
    call()
    samples.append((time.perf_counter_ns() - t0) / 1e6)
print(json.dumps({"p50": statistics.median(samples), "n": len(samples), "threads": threads}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("experiment")
    parser.add_argument("variants", nargs="+", help="the first is the reference the others are divided by")
    parser.add_argument("--point", required=True, help="e.g. batch=1,seq_len=128")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    point = {k: int(v) for k, v in (item.split("=") for item in args.point.split(","))}
    medians: dict[str, list[float]] = {v: [] for v in args.variants}
    for round_no in range(args.rounds):
        for name in args.variants:
            code = ONE % {"exp": args.experiment, "variant": name, "point": point, "seconds": args.seconds}
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                return 1
            found = json.loads(done.stdout.strip().splitlines()[-1])
            medians[name].append(found["p50"])
            print(
                f"round {round_no + 1} {name}: p50 {found['p50']:.4g} ms over {found['n']} calls", flush=True
            )
    first = args.variants[0]
    for name in args.variants:
        ratios = [a / b for a, b in zip(medians[first], medians[name], strict=True)]
        print(
            f"{name}: round medians {[round(m, 4) for m in medians[name]]} ms; "
            f"{first} / {name} = {statistics.median(ratios):.3f} "
            f"(min {min(ratios):.3f}, max {max(ratios):.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
