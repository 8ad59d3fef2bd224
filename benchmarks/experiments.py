"""Declared experiments and the profiles that size them.

An experiment compares variants (the first is the baseline) of one workload
over a grid of points; each technique module declares its own in
``EXPERIMENTS`` and this registry collects them.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import MeasureSettings


def technique_modules() -> list[str]:
    """Every module in ``benchmarks/techniques``: adding a technique is adding a file."""
    import benchmarks.techniques as package

    return sorted(f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__))


class UnknownExperimentError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class UnknownProfileError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Profile:
    name: str
    settings: MeasureSettings
    eval_limit: int | None = field(metadata={"help": "evaluation examples; None means all"})
    timeout_s: float = field(default=900.0, metadata={"help": "wall-clock limit of one experiment"})
    noise_repeats: int = field(
        default=1, metadata={"help": "times a noisy point is measured again before it is flagged"}
    )
    training_scale: float = field(
        default=1.0,
        metadata={"help": "fraction of the MiniLM distillation runs' steps or epochs (see training_length)"},
    )


PROFILES: dict[str, Profile] = {
    # Seconds per experiment: every experiment runs end to end in the tests.
    "toy": Profile(
        "toy",
        MeasureSettings(warmup_iters=1, warmup_s=0.0, min_iters=3, min_s=0.0, rounds=2),
        eval_limit=40,
        timeout_s=300,
        training_scale=0.1,
    ),
    # What `make site` runs on a 2-core machine: about 200 (variant, point) pairs in six
    # paired rounds, whose min-max interval has a 96.9% level (four rounds: 87.5%), in the
    # time four rounds of 0.5 s took. It did not make one build agree with itself better:
    # the median spread of a configuration's paired speedup across experiments measured
    # 7-12% in three builds with four rounds and 14% in one with six, on the AMD EPYC VM;
    # the host's noise sets it. At a workload's reference point, the one verdicts and
    # recipes read, a round lasts 0.35 s of calls:
    # rounds of 0.05 s held about 3 MiniLM calls, and the first calls after another
    # worker weighed so much that a peer measured 45% slower than the same engine
    # timed plainly. Every round starts with 0.05 s of untimed calls for the same
    # reason. Elsewhere a round ends at 0.05 s or 3 calls, whichever is later. A round
    # keeps at most 4,000 calls (the raw latencies are stored).
    # A noisy point is flagged, not measured again: on a shared 2-core machine most
    # repeats stayed noisy and cost a quarter of the run.
    # The MiniLM distillations (pruning, low-rank, the 3-layer student) run half their
    # steps or epochs, as the budget asks ("short fine-tuning"); `full` runs them whole.
    "default": Profile(
        "default",
        MeasureSettings(
            warmup_iters=2,
            warmup_s=0.05,
            min_iters=3,
            min_s=0.05,
            max_iters=4000,
            rounds=6,
            round_warmup_s=0.05,
            reference_min_s=0.35,
        ),
        eval_limit=None,
        timeout_s=900,
        noise_repeats=0,
        training_scale=0.5,
    ),
    # The release grid: more points, rounds twice as long as `default`'s and one more of
    # them. A noisy point is flagged, not measured again: a repeat replaced five rounds
    # with five others, and on the 2-core machine it ran at nearly every point, which
    # put this profile past its 45 minutes. Calls of a second or more (batch 32, 256
    # tokens) end a round by count, short ones by duration.
    "full": Profile(
        "full",
        MeasureSettings(
            warmup_iters=3,
            warmup_s=0.3,
            min_iters=3,
            min_s=0.3,
            max_iters=5000,
            rounds=6,
            round_warmup_s=0.1,
            reference_min_s=1.0,
        ),
        eval_limit=None,
        timeout_s=2400,
        noise_repeats=0,
    ),
}


@dataclass(frozen=True)
class VariantSpec:
    name: str
    label: str
    label_zh: str
    builder: str = field(metadata={"help": "module:function building the variant in its worker"})
    options: dict[str, Any] = field(default_factory=dict)
    packages: tuple[str, ...] = field(default=(), metadata={"help": "installed packages the engine uses"})
    fresh_process: bool = field(
        default=False,
        metadata={"help": "start from a bare interpreter, for settings that must precede `import torch`"},
    )
    requires: str | None = field(
        default=None,
        metadata={
            "help": "module:function returning why this machine cannot run the variant (then the "
            "experiment runs without it and records it as skipped, with the reason), or None"
        },
    )


@dataclass(frozen=True)
class Experiment:
    name: str
    technique: str
    workload: str
    variants: tuple[VariantSpec, ...]
    grids: dict[str, tuple[dict[str, int], ...]]
    threads: int | None = field(default=None, metadata={"help": "None: all usable cores"})
    requires: str | None = field(
        default=None,
        metadata={
            "help": "module:function returning why this machine cannot run the experiment "
            "(then it is recorded as skipped), or None when it can; must not import heavy engines"
        },
    )
    module: str | None = field(
        default=None,
        compare=False,
        metadata={"help": "the technique module declaring it (all_experiments fills it in)"},
    )

    def __post_init__(self) -> None:
        if len(self.variants) < 2:
            raise ValueError(f"{self.name}: needs a baseline and at least one candidate")
        if len({v.name for v in self.variants}) != len(self.variants):
            raise ValueError(f"{self.name}: variant names must be unique")
        missing = set(PROFILES) - set(self.grids)
        if missing:
            raise ValueError(f"{self.name}: no grid for profiles {sorted(missing)}")

    @property
    def baseline(self) -> VariantSpec:
        return self.variants[0]

    def points(self, profile: Profile) -> tuple[dict[str, int], ...]:
        return self.grids[profile.name]

    def config(self, profile: Profile) -> dict[str, Any]:
        """Everything that determines the result, stored with it."""
        prof = profile
        return {
            "technique": self.technique,
            "workload": self.workload,
            "variants": [
                {"name": v.name, "label": v.label, "label_zh": v.label_zh, "options": v.options}
                for v in self.variants
            ],
            "baseline": self.baseline.name,
            "points": list(self.points(profile)),
            "threads_requested": self.threads,
            "measure": prof.settings.__dict__,
            "eval_limit": prof.eval_limit,
            "noise_repeats": prof.noise_repeats,
            "training_scale": prof.training_scale,
        }


TRAINING_SCALE_ENV = "BENCH_TRAINING_SCALE"


def training_length(full: int) -> int:
    """A training run's steps or epochs under the running profile: ``full`` scaled by the
    profile's ``training_scale`` (each worker's environment carries it), at least 1."""
    scale = float(os.environ.get(TRAINING_SCALE_ENV, "1"))
    return max(1, round(full * scale))


def get_profile(name: str) -> Profile:
    """The profile by name: looked up once, where a name enters (the command line), and
    passed down typed."""
    if name not in PROFILES:
        raise UnknownProfileError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}")
    return PROFILES[name]


def all_experiments() -> dict[str, Experiment]:
    found: dict[str, Experiment] = {}
    for module_name in technique_modules():
        for exp in getattr(importlib.import_module(module_name), "EXPERIMENTS", ()):
            if exp.name in found:
                raise ValueError(f"experiment {exp.name} is declared twice")
            found[exp.name] = exp if exp.module else dataclasses.replace(exp, module=module_name)
    return found


def get_experiment(name: str) -> Experiment:
    experiments = all_experiments()
    if name not in experiments:
        raise UnknownExperimentError(
            f"unknown experiment {name!r}; known experiments: {', '.join(sorted(experiments))}"
        )
    return experiments[name]
