"""The renderer: one per build, reading one results folder, turning a page's markers into Markdown.

It holds what the widgets share while a page renders: the results on disk, the charts drawn
(the hook loads plotly.js only on pages with one), the experiments shown (offered for download)
and the claims whose stored results are too old for their rule.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from benchmarks import claims
from benchmarks import results as results_mod
from benchmarks.experiments import all_experiments
from benchmarks.report import charts, markers
from benchmarks.report.escape import md_reason, md_text
from benchmarks.report.markup import MarkerError, admonition, not_measured
from benchmarks.report.strings import t
from benchmarks.results import ExperimentResult
from benchmarks.summary import ok_results


class Renderer:
    """Turns markers into Markdown; one instance per build, reading one results folder."""

    def __init__(self, directory: Path | None = None, archive: Path | None = None) -> None:
        self.directory = directory or results_mod.results_dir()
        self.archive = archive or results_mod.archive_dir()
        self.experiments = all_experiments()
        self.charts = 0
        self.used: set[str] = set()  # experiments a page shows: offered for download
        self.machine_shown = False  # the page holds bench:machine (else its card is appended)
        self.outdated: dict[str, str] = {}  # claim -> the figure its stored results lack

    def render(self, markdown: str, lang: str) -> tuple[str, int]:
        """Replace every marker; returns the new Markdown and how many charts it holds."""
        self.charts = 0
        self.used = set()
        self.machine_shown = False

        def replace(match: re.Match[str]) -> str:
            kind, arg = match.group("kind"), match.group("arg")
            rendered = markers.get(kind)(self, arg, lang)
            # An inline figure stays in its sentence (and table cell); blocks get lines of their own.
            return rendered if kind in markers.INLINE_KINDS else "\n" + rendered + "\n"

        return markers.MARKER.sub(replace, markdown), self.charts

    # ---- what the widgets share --------------------------------------------------------------

    def load(self, exp: str | None, lang: str) -> tuple[ExperimentResult | None, str]:
        """The result to show, or None, and a notice to print above it."""
        if exp is None or exp not in self.experiments:
            raise MarkerError(f"unknown experiment {exp!r}; known: {', '.join(sorted(self.experiments))}")
        self.used.add(exp)
        stored, failure = self.stored(exp)
        if stored is None:
            return None, not_measured(lang, exp)
        if stored.status == "skipped":
            body = t(lang, "skipped_body").format(exp=exp, reason=md_reason(stored.reason))
            return None, admonition("info", t(lang, "skipped"), body)
        if stored.status == "failed":
            body = t(lang, "failed_body").format(
                exp=exp, date=md_text(stored.started), reason=md_reason(stored.reason)
            )
            return None, admonition("failure", t(lang, "failed"), body)
        notice = skipped_variants(stored, lang)
        if failure is not None:
            skipped = failure.status == "skipped"
            body = t(lang, "skipped_body" if skipped else "failed_body").format(
                exp=exp, date=md_text(failure.started), reason=md_reason(failure.reason)
            )
            notice += admonition("warning", t(lang, "latest_skipped" if skipped else "latest_failed"), body)
        return stored, notice

    def stored(
        self, exp: str, directory: Path | None = None
    ) -> tuple[ExperimentResult | None, ExperimentResult | None]:
        """The stored result of ``exp`` and its latest failed run, as ``results.load_experiment``."""
        try:
            return results_mod.load_experiment(exp, directory or self.directory)
        except results_mod.ResultsError as exc:
            raise MarkerError(str(exc)) from exc

    def all_ok(self) -> dict[str, ExperimentResult]:
        """Every result of this build whose run succeeded."""
        try:
            return ok_results(self.directory)
        except results_mod.ResultsError as exc:
            raise MarkerError(str(exc)) from exc

    def chart(self, fig: go.Figure, name: str) -> str:
        """A chart on this page (counted: the page then loads plotly.js)."""
        self.charts += 1
        return charts.chart_html(fig, name)

    def latest_run_notices(self, experiments: tuple[str, ...], lang: str) -> str:
        """For each result a verdict reads whose latest run failed or was skipped: say so, as tables do."""
        notices = []
        for exp in experiments:
            _, latest = results_mod.load_experiment(exp, self.directory)
            if latest is not None:
                key = "latest_skipped" if latest.status == "skipped" else "latest_failed"
                body = t(lang, "failed_body" if latest.status == "failed" else "skipped_body").format(
                    exp=exp, date=md_text(latest.started), reason=md_reason(latest.reason)
                )
                notices.append(f"**{t(lang, key)}** ({body})\n\n")
        return "".join(notices)

    def finding(self, claim: str) -> tuple[Any, list[str], list[ExperimentResult]]:
        """The verdict's finding (None when results are missing), missing experiments, skipped results."""
        verdicts = claims.all_verdicts()
        if claim not in verdicts:
            raise MarkerError(f"no verdict for claim {claim!r}; known: {', '.join(sorted(verdicts))}")
        check = verdicts[claim]
        results: dict[str, ExperimentResult] = {}
        skipped: list[ExperimentResult] = []
        for exp in check.experiments:
            self.used.add(exp)
            stored, _ = self.stored(exp)
            if stored is not None and stored.status == "ok":
                results[exp] = stored
            elif stored is not None and stored.status == "skipped":
                skipped.append(stored)
        missing = [exp for exp in check.experiments if exp not in results]
        if missing:
            return None, missing, skipped
        try:
            return claims.decide(check, results), missing, skipped
        except KeyError as exc:
            # Results written by older code lack a figure this rule reads: the verdict waits for
            # a run of the current pipelines instead of failing the whole build.
            self.outdated[claim] = str(exc)
            return None, list(check.experiments), skipped


def skipped_variants(result: ExperimentResult, lang: str) -> str:
    """A notice naming the variants this machine could not run, with their reasons (never hidden)."""
    if not result.skipped_variants:
        return ""
    key = "label_zh" if lang == "zh" else "label"
    names = {v["name"]: v.get(key, v["name"]) for v in result.config["variants"]}
    body = t(lang, "variant_skipped_body")
    lines = [
        "- " + body.format(label=md_text(names.get(name, name)), name=md_text(name), reason=md_reason(reason))
        for name, reason in sorted(result.skipped_variants.items())
    ]
    return admonition("info", t(lang, "variants_skipped"), "\n".join(lines))
