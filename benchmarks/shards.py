"""Sharded runs: split the selected experiments into N shares of about equal cost, and merge
the results folders the shares wrote back into one.

The partition is a pure function of the experiment names and their costs, so every shard
computes the same one on any machine, as long as each reads its costs from the same place
(``--costs``; by default the repository's ``results/``, never the shard's own output folder).

Cost of an experiment: the ``duration_s`` of its last stored run there (the latest run kept
beside a good result, else the result itself); an experiment with no stored run, or one whose
run recorded no duration, costs ``ESTIMATE_S[workload]`` (``DEFAULT_ESTIMATE_S`` for a workload
not listed). Costs of one folder should come from one profile: they weigh experiments against
each other, so only their ratios matter.

Partition: greedy longest-first into N bins: experiments in order of falling cost, ties broken
by name, each into the bin with the least cost so far, ties broken by the lower bin number.

Merging: shards of one machine write results under the same file names into their own folders;
merging copies the JSON files together. Every file is checked (a results file of this schema,
named after its experiment) and the names must be disjoint (an experiment in two folders is a
clash) before anything is written; a refused merge changes nothing.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import results as results_mod
from benchmarks.experiments import Experiment

# Seconds an experiment of a workload took at the default profile on the 2-core build machine
# (AMD EPYC, 2026-12-06: the median over the workload's experiments, rounded). Used only when
# there is no stored run to measure the cost by.
ESTIMATE_S: dict[str, float] = {"minilm": 30.0, "resnet50": 25.0, "digits-cnn": 18.0}
DEFAULT_ESTIMATE_S = 25.0

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A shard specification or a merge that cannot be carried out, with the reason."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)`` with ``1 <= I <= N``; anything else raises ShardError."""
    match = _SHARD_RE.match(text or "")
    if not match:
        raise ShardError(f"--shard {text!r}: expected I/N, for example 1/4 (shard I of N, counted from 1)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ShardError(f"--shard {text!r}: the number of shards must be at least 1")
    if not 1 <= index <= count:
        raise ShardError(f"--shard {text!r}: the shard must be between 1 and {count}")
    return index, count


@dataclass(frozen=True)
class Cost:
    seconds: float
    measured: bool  # False: the per-workload estimate


def cost_of(name: str, workload: str, directory: Path) -> Cost:
    """What the experiment's last stored run in ``directory`` took, or the workload's estimate."""
    try:
        stored, latest = results_mod.load_experiment(name, directory)
    except (results_mod.ResultsError, OSError):
        stored = latest = None
    last = latest or stored
    if last is not None and last.duration_s > 0:
        return Cost(float(last.duration_s), True)
    return Cost(ESTIMATE_S.get(workload, DEFAULT_ESTIMATE_S), False)


def partition(costs: Mapping[str, float], count: int) -> list[list[str]]:
    """Greedy longest-first: ``count`` bins of experiment names, each list in name order."""
    if count < 1:
        raise ShardError("the number of shards must be at least 1")
    bins: list[list[str]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for name in sorted(costs, key=lambda n: (-costs[n], n)):
        target = min(range(count), key=lambda i: (loads[i], i))
        bins[target].append(name)
        loads[target] += costs[name]
    return [sorted(b) for b in bins]


def shard_costs(experiments: Iterable[tuple[str, str]], directory: Path) -> dict[str, Cost]:
    """Cost of each ``(name, workload)``, read from ``directory``."""
    return {name: cost_of(name, workload, directory) for name, workload in experiments}


def select(costs: Mapping[str, Cost], index: int, count: int) -> list[str]:
    """The names shard ``index`` of ``count`` runs (``index`` counted from 1)."""
    if not 1 <= index <= count:
        raise ShardError(f"shard {index} of {count}: the shard must be between 1 and {count}")
    return partition({n: c.seconds for n, c in costs.items()}, count)[index - 1]


def describe(costs: Mapping[str, Cost], index: int, count: int) -> str:
    """One line on the share: how many experiments and what they cost, of the whole."""
    chosen = select(costs, index, count)
    mine = sum(costs[n].seconds for n in chosen)
    total = sum(c.seconds for c in costs.values())
    estimated = sum(1 for n in chosen if not costs[n].measured)
    note = f", {estimated} by estimate" if estimated else ""
    return (
        f"shard {index}/{count}: {len(chosen)} of {len(costs)} experiments, "
        f"about {mine:.0f} s of {total:.0f} s{note}"
    )


# -- merging ---------------------------------------------------------------------------------

_SUFFIXES = ("", results_mod.LATEST_SUFFIX, *results_mod.LEGACY_SUFFIXES)


@dataclass(frozen=True)
class _Incoming:
    source: Path
    experiment: str
    profile: str


def _check_folder(folder: Path) -> list[_Incoming]:
    if not folder.is_dir():
        raise ShardError(f"{folder}: not a folder of results")
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not path.is_file() or path.suffix != ".json":
            raise ShardError(f"{path}: not a results file (a results folder holds only *.json files)")
        try:
            record = results_mod.load(path)
        except results_mod.ResultsError as exc:
            raise ShardError(str(exc)) from None
        expected = {results_mod.file_name(record.experiment, s) for s in _SUFFIXES}
        if path.name not in expected:
            raise ShardError(
                f"{path}: holds experiment {record.experiment!r}, whose file is named "
                f"{results_mod.file_name(record.experiment)}"
            )
        found.append(_Incoming(path, record.experiment, record.profile))
    return found


def merge(sources: Sequence[Path], destination: Path) -> list[Path]:
    """Copy the results files of ``sources`` into ``destination``; return the files written.

    Refused with ShardError, before anything is written, when a source is not a folder of valid
    results files, when two sources hold the same experiment, when they were run at different
    profiles, or when ``destination`` already holds a file of an incoming experiment."""
    if not sources:
        raise ShardError("merge needs at least one results folder")
    destination = Path(destination)
    owner: dict[str, Path] = {}
    incoming: list[_Incoming] = []
    for folder in map(Path, sources):
        if destination.exists() and folder.resolve() == destination.resolve():
            raise ShardError(f"{folder}: is the destination itself")
        for item in _check_folder(folder):
            first = owner.setdefault(item.experiment, folder)
            if first != folder:
                raise ShardError(
                    f"experiment {item.experiment} is in both {first} and {folder}: shards must be disjoint"
                )
            incoming.append(item)
    profiles = sorted({item.profile for item in incoming})
    if len(profiles) > 1:
        raise ShardError(f"the folders hold results of different profiles ({', '.join(profiles)})")
    for experiment in sorted(owner):
        for suffix in _SUFFIXES:
            there = destination / results_mod.file_name(experiment, suffix)
            if there.exists() or there.is_symlink():
                raise ShardError(
                    f"{there} already exists: merging would overwrite it; merge into an empty folder"
                )
    try:
        results_mod.check_writable(destination)
    except results_mod.ResultsLocationError as exc:
        raise ShardError(str(exc)) from None
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for item in incoming:
        target = destination / item.source.name
        tmp = destination / f".{item.source.name}.merge.tmp"
        shutil.copyfile(item.source, tmp)
        tmp.replace(target)
        written.append(target)
    return written


def default_costs_dir() -> Path:
    """Where shards read costs by default: the repository's ``results/``, the same folder for
    every shard whatever ``BENCH_RESULTS_DIR`` each writes to."""
    return results_mod.REPO_ROOT / "results"


def choose(
    experiments: Sequence[Experiment], spec: str, costs_dir: Path | None = None
) -> tuple[list[Experiment], str]:
    """The experiments shard ``spec`` ("I/N") runs, in their given order, and a line saying so."""
    index, count = parse_shard(spec)
    costs = shard_costs(((e.name, e.workload) for e in experiments), costs_dir or default_costs_dir())
    chosen = set(select(costs, index, count))
    return [e for e in experiments if e.name in chosen], describe(costs, index, count)
