"""Claim checks: each of the article's claims gets a verdict computed from results.

A technique module may declare ``VERDICTS``: the claim's id (``T3``, ``C5`` as in
the shared claims list), the experiments it reads, the rule in both languages
(shown on the page), and a ``judge`` that reads only stored results (never
torch) and returns a ``Finding``. ``<!-- bench:verdict T3 -->`` renders it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.results import ExperimentResult

OUTCOMES = ("holds", "partly", "does-not-hold", "not-measurable")


@dataclass(frozen=True)
class Finding:
    outcome: str = field(metadata={"help": "one of OUTCOMES"})
    evidence: str = field(metadata={"help": "English: the figures that decided it"})
    evidence_zh: str = field(metadata={"help": "Chinese twin of evidence"})

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.outcome!r}")


@dataclass(frozen=True)
class Verdict:
    claim: str
    experiments: tuple[str, ...]
    rule: str
    rule_zh: str
    judge: Callable[[dict[str, ExperimentResult]], Finding] = field(
        metadata={"help": "gets the ok results of `experiments` by name; all of them are present"}
    )


def all_verdicts() -> dict[str, Verdict]:
    from benchmarks.experiments import technique_modules

    found: dict[str, Verdict] = {}
    for module_name in technique_modules():
        for verdict in getattr(importlib.import_module(module_name), "VERDICTS", ()):
            if verdict.claim in found:
                raise ValueError(f"claim {verdict.claim} is judged twice")
            found[verdict.claim] = verdict
    return found


# ---- reading results in judges ------------------------------------------------------------


def point(result: ExperimentResult, **params: int) -> dict[str, Any]:
    """The measured point with exactly these parameters (KeyError when it was not measured)."""
    for entry in result.points:
        if entry["params"] == params:
            return entry
    raise KeyError(f"{result.experiment}: no point {params}")


def p50(result: ExperimentResult, variant: str, **params: int) -> float:
    return point(result, **params)["variants"][variant]["latency"]["p50"]


def speedup(result: ExperimentResult, variant: str, **params: int) -> float:
    """Median paired speedup of ``variant`` over the experiment's baseline at one point."""
    return point(result, **params)["variants"][variant]["speedup"]["median"]


def speedups(result: ExperimentResult, variant: str) -> list[tuple[dict[str, int], float]]:
    """(params, median paired speedup) at every measured point."""
    return [(e["params"], e["variants"][variant]["speedup"]["median"]) for e in result.points]


def quality(result: ExperimentResult, variant: str) -> dict[str, Any]:
    return result.variants[variant]["quality"]


def info(result: ExperimentResult, variant: str) -> dict[str, Any]:
    return result.variants[variant]["info"]
