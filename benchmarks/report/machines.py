"""The machine as a dimension of the site: the Machines page (``bench:machines``,
``bench:machine-headlines``, ``bench:machine-verdicts``) and one experiment's speedups across
machines (``bench:across-machines EXP``).

This build's machine is the reference (its results stay in the results folder); every other
machine's results were imported from a bundle (``benchmarks.machines``). Each machine's figures are
chosen by the rules the other pages use on this build's: the headline by ``benchmarks.summary``,
the recipe by ``benchmarks.claims.recipes.select``, the verdicts by the claims' own judges
(``benchmarks.claims.decide``), each reading that machine's results only. Every string from
another machine (its card, note, package versions, variant labels) is untrusted and escaped.

With one machine the Machines page says so and how to add another; ``bench:across-machines``
renders nothing, so a technique page looks as it did before machines were a dimension.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go

from benchmarks import claims, summary, workloads
from benchmarks import machines as machines_mod
from benchmarks import results as results_mod
from benchmarks.report.charts import PALETTE
from benchmarks.report.escape import md_code, md_text
from benchmarks.report.markup import (
    MarkerError,
    admonition,
    bench_table,
    headline_quality,
    interval_level,
    markdown_table,
    not_measured,
    point_label,
    speedup_cell,
)
from benchmarks.report.overview import speed_of
from benchmarks.report.strings import CATALOGUES, t, workload_name
from benchmarks.results import ExperimentResult

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

TEXT = CATALOGUES["machines"]


def _text(lang: str, key: str) -> str:
    return TEXT[lang][key]


@dataclass(frozen=True)
class MachineResults:
    """One machine and its ok results."""

    machine: machines_mod.Machine
    results: dict[str, ExperimentResult]

    def label(self, lang: str) -> str:
        """The machine as a page names it, escaped; the reference says it is this build's."""
        name = md_text(self.machine.label)
        return _text(lang, "reference").format(label=name) if self.machine.reference else name


def machines(page: Renderer) -> list[MachineResults]:
    """Every machine with results, the reference (this build's) first, each with its ok results."""
    try:
        found = machines_mod.list_machines(page.directory)
    except (results_mod.ResultsError, ValueError, OSError) as exc:
        raise MarkerError(f"machines: {exc}") from exc
    out = []
    for machine in found:
        if machine.reference:
            results = page.all_ok()
        else:
            try:
                loaded = machines_mod.load_results(machine)
            except (results_mod.ResultsError, ValueError, OSError) as exc:
                raise MarkerError(f"machine {machine.id}: {exc}") from exc
            results = {name: r for name, r in loaded.items() if r.status == "ok"}
        out.append(MachineResults(machine, results))
    return out


# ---- what the rules choose on one machine -------------------------------------------------------


def headline(results: dict[str, ExperimentResult], workload: str) -> summary.Candidate | str | None:
    """The fastest variant within the bar at the reference point; "none" when variants were
    measured but none meets the bar, None when the workload was not measured."""
    found = summary.candidates(results, workload)
    if not found:
        return None
    ranking = summary.ranked(found)
    return ranking[0] if ranking else "none"


def recipe_cells(results: dict[str, ExperimentResult], workload: str, lang: str) -> tuple[str, str]:
    """The recipe's label and its ratio to the fastest peer within the bar (both escaped)."""
    from benchmarks.claims.recipes import select

    result = results.get(f"recipes/{workload}")
    if result is None:
        return _text(lang, "not_measured"), "-"
    try:
        chosen = select(result)
    except (KeyError, StopIteration) as exc:  # results written by older pipelines
        raise MarkerError(f"recipes/{workload}: {exc}") from exc
    labels = {v["name"]: v.get(f"label_{lang}", v["label"]) for v in result.config.get("variants", [])}
    if chosen.recipe is None:
        return _text(lang, "no_recipe"), "-"
    recipe = md_text(labels.get(chosen.recipe.variant, chosen.recipe.variant))
    if chosen.ratio is None:
        return recipe, _text(lang, "no_peer")
    ratio = chosen.ratio
    speed = {"median": ratio.median, "ci_low": ratio.ci_low, "ci_high": ratio.ci_high}
    peer = md_text(labels.get(chosen.peer.variant, chosen.peer.variant)) if chosen.peer else "?"
    return recipe, f"{speedup_cell(speed)} ({peer})"


def findings(results: dict[str, ExperimentResult]) -> dict[str, claims.Finding | None]:
    """Each claim's finding from these results alone (None where an experiment it reads is
    missing, or its results lack a figure the rule reads): the judges of the verdict boxes,
    given another machine's results."""
    found: dict[str, claims.Finding | None] = {}
    for claim, check in claims.all_verdicts().items():
        if any(exp not in results for exp in check.experiments):
            found[claim] = None
            continue
        try:
            found[claim] = claims.decide(check, {exp: results[exp] for exp in check.experiments})
        except KeyError:
            found[claim] = None
    return found


def differing_verdicts(
    reference: dict[str, claims.Finding | None], other: dict[str, claims.Finding | None]
) -> list[str]:
    """The claims judged on both machines whose outcomes differ, in the order of the claims list."""
    order = [c for c in claims.CLAIMS if c in reference] + [c for c in reference if c not in claims.CLAIMS]
    return [
        claim
        for claim in order
        if (ref := reference.get(claim)) is not None
        and (mine := other.get(claim)) is not None
        and ref.outcome != mine.outcome
    ]


# ---- bench:machines -----------------------------------------------------------------------------


def _card_rows(entry: MachineResults, lang: str) -> dict[str, str]:
    card: dict[str, Any] = entry.machine.card or {}
    manifest: dict[str, Any] = entry.machine.manifest or {}
    packages = manifest.get("packages") or card.get("packages") or {}
    physical = card.get("usable_physical_cores") or card.get("physical_cores")
    cores = md_text(card.get("logical_cores", "?"))
    if physical:
        cores += f" ({md_text(physical)})"
    isa = card.get("isa") or []
    return {
        _text(lang, "cpu"): md_text(card.get("cpu", "?")),
        _text(lang, "arch"): md_text(card.get("arch", "?")),
        _text(lang, "isa"): ", ".join(md_text(f) for f in isa) if isinstance(isa, list) and isa else "-",
        _text(lang, "cores"): cores,
        _text(lang, "memory"): md_text(card.get("memory_gib", "?")),
        _text(lang, "date"): md_text(manifest.get("date") or card.get("date", "?")),
        _text(lang, "profile"): md_text(manifest.get("profile", "-")),
        _text(lang, "commit"): md_code(manifest.get("commit") or card.get("commit", "?")),
        _text(lang, "packages"): ", ".join(
            f"{md_text(k)} {md_text(v)}" for k, v in (packages.items() if isinstance(packages, dict) else ())
        )
        or "-",
        _text(lang, "note"): md_text(manifest.get("note") or "-"),
        _text(lang, "results"): str(len(entry.results)),
    }


def machines_table(page: Renderer, arg: str | None, lang: str) -> str:
    """``bench:machines``: each machine's card side by side (a column per machine), and with
    one machine, how to add another."""
    if arg is not None:
        raise MarkerError("bench:machines takes no argument")
    found = machines(page)
    if not found:
        return not_measured(lang, "all")
    page.machine_shown = True  # this page shows the cards itself
    columns = {entry.label(lang): _card_rows(entry, lang) for entry in found}
    fields = list(next(iter(columns.values())))
    rows = [{_text(lang, "field"): f, **{label: col[f] for label, col in columns.items()}} for f in fields]
    table = bench_table(markdown_table(pd.DataFrame(rows)))
    if len(found) == 1:
        table = admonition("info", _text(lang, "one_machine"), _text(lang, "one_machine_body")) + "\n" + table
    return table


# ---- bench:machine-headlines --------------------------------------------------------------------


def machine_headlines(page: Renderer, arg: str | None, lang: str) -> str:
    """``bench:machine-headlines``: per workload and machine, the best variant within the bar
    (speedup and quality), the recipe and its ratio to the fastest peer."""
    if arg is not None:
        raise MarkerError("bench:machine-headlines takes no argument")
    found = machines(page)
    if not found:
        return not_measured(lang, "all")
    page.used.update(found[0].results if found[0].machine.reference else ())
    rows = []
    for workload in workloads.WORKLOADS:
        for entry in found:
            top = headline(entry.results, workload)
            recipe, ratio = recipe_cells(entry.results, workload, lang)
            if top is None:
                best, speed, quality = _text(lang, "not_measured"), "-", "-"
            elif isinstance(top, str):
                best, speed, quality = _text(lang, "none_within_bar"), "-", "-"
            else:
                best = f"{md_text(top.label_in(lang))} (`{md_text(top.experiment)}`)"
                speed, quality = speedup_cell(speed_of(top), bold=True), headline_quality(top.quality, lang)
            rows.append(
                {
                    _text(lang, "workload"): workload_name(lang, workload),
                    _text(lang, "machine"): entry.label(lang),
                    _text(lang, "best"): best,
                    _text(lang, "speedup"): speed,
                    _text(lang, "quality"): quality or "-",
                    _text(lang, "recipe"): recipe,
                    _text(lang, "recipe_ratio"): ratio,
                }
            )
    table = bench_table(markdown_table(pd.DataFrame(rows)))
    return f"{table}\n<small>{_text(lang, 'headline_note')}</small>\n"


# ---- bench:machine-verdicts ---------------------------------------------------------------------


def machine_verdicts(page: Renderer, arg: str | None, lang: str) -> str:
    """``bench:machine-verdicts``: the claims whose verdict on another machine reads differently
    from the reference machine's, each machine's verdict from its own results."""
    if arg is not None:
        raise MarkerError("bench:machine-verdicts takes no argument")
    found = machines(page)
    if len(found) < 2 or not found[0].machine.reference:
        return _text(lang, "one_machine_verdicts") + "\n"
    judged = {entry.machine.id: findings(entry.results) for entry in found}
    reference = judged[found[0].machine.id]
    differ: list[str] = []
    for entry in found[1:]:
        differ += [c for c in differing_verdicts(reference, judged[entry.machine.id]) if c not in differ]
    total = len(reference)
    if not differ:
        counts = _text(lang, "list_sep").join(
            f"{entry.label(lang)}: {sum(1 for f in judged[entry.machine.id].values() if f is not None)}"
            for entry in found
        )
        return _text(lang, "no_differ").format(judged=counts) + "\n"

    def outcome(finding: claims.Finding | None, bold: bool) -> str:
        if finding is None:
            return _text(lang, "not_judged")
        word = t(lang, finding.outcome)
        return f"**{word}**" if bold else word

    rows = []
    for claim in differ:
        where = claims.CLAIMS.get(claim, ("", "", ""))[2]
        ref = reference[claim]
        row = {_text(lang, "claim"): f"[{claim}]({where}#claim-{claim.lower()})" if where else claim}
        for entry in found:
            mine = judged[entry.machine.id][claim]
            bold = (
                not entry.machine.reference
                and mine is not None
                and ref is not None
                and mine.outcome != ref.outcome
            )
            row[entry.label(lang)] = outcome(mine, bold)
        rows.append(row)
    lead = _text(lang, "differ_lead").format(n=len(differ), total=total)
    return f"{lead}\n\n{bench_table(markdown_table(pd.DataFrame(rows)))}"


# ---- bench:across-machines EXP ------------------------------------------------------------------


def _point_of(result: ExperimentResult) -> dict[str, int]:
    """The workload's reference point where the result measured it, else its first point."""
    measured = [p["params"] for p in result.points]
    workload = result.config.get("workload")
    if workload in workloads.WORKLOADS and workloads.get(workload).REFERENCE_POINT in measured:
        return dict(workloads.get(workload).REFERENCE_POINT)
    return measured[0]


def across_machines(page: Renderer, exp: str | None, lang: str) -> str:
    """``bench:across-machines EXP``: the experiment's paired speedups at one point, one series per
    machine; nothing with one machine (the page's own charts show this build's)."""
    if exp is None or exp not in page.experiments:
        raise MarkerError(f"bench:across-machines: unknown experiment {exp!r}")
    imported = machines_mod.machines_dir(page.directory)
    if not imported.is_dir() or all(p.name.startswith(".") for p in imported.iterdir()):
        return ""  # one machine: no results are read, the page is as it was
    found = machines(page)
    if len(found) == 1:
        return ""
    with_result = [entry for entry in found if exp in entry.results]
    if not with_result:
        return ""
    page.used.add(exp)
    params = _point_of(with_result[0].results[exp])
    fig = go.Figure()
    missing = [entry.label(lang) for entry in found if exp not in entry.results]
    speeds: list[dict[str, Any]] = []
    for index, entry in enumerate(found):
        result = entry.results.get(exp)
        if result is None:
            continue
        point = next((p for p in result.points if p["params"] == params), None)
        if point is None:
            missing.append(entry.label(lang))
            continue
        labels = {v["name"]: v.get(f"label_{lang}", v["label"]) for v in result.config.get("variants", [])}
        xs, hover, ys, below, above = [], [], [], [], []
        for name, row in point["variants"].items():
            speed = row.get("speedup")
            if not speed:
                continue  # the baseline
            speeds.append(speed)
            xs.append(md_text(name))  # the variant's short name; its label on hover
            hover.append(md_text(labels.get(name, name)))
            ys.append(speed["median"])
            below.append(speed["median"] - speed["ci_low"])
            above.append(speed["ci_high"] - speed["median"])
        fig.add_bar(
            name=entry.label(lang),
            x=xs,
            y=ys,
            hovertext=hover,
            marker_color=PALETTE[index % len(PALETTE)],
            error_y={"type": "data", "array": above, "arrayminus": below, "symmetric": False},
        )
    where = point_label(params, lang)
    fig.add_hline(y=1.0, line_dash="dot")
    fig.update_layout(
        barmode="group",
        yaxis_title=_text(lang, "across_axis").format(level=interval_level(speeds)),
    )
    title = _text(lang, "across_title").format(exp=md_code(exp), point=where)
    note = _text(lang, "across_missing").format(machines=", ".join(missing)) if missing else ""
    chart = page.chart(fig, f"chart-machines-{exp.replace('/', '-')}-{lang}")
    return f"**{title}** {_text(lang, 'across_lead')} {note}\n\n{chart}\n"
