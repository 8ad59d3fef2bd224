"""What stands behind this build's figures: the machine card, earlier releases, the measurement
settings of each profile and how long each experiment took."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from benchmarks.experiments import PROFILES
from benchmarks.report.escape import md_code, md_text
from benchmarks.report.markup import (
    HEADLINE_METRICS,
    MarkerError,
    admonition,
    bench_table,
    fmt,
    markdown_table,
    metric,
    not_measured,
    point_label,
)
from benchmarks.report.strings import START_HERE, t
from benchmarks.results import ExperimentResult

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

# Machine-card fields a page may name inline (``bench:card FIELD``, or ``bench:card package:NAME``).
CARD_FIELDS = (
    "cpu",
    "arch",
    "isa",
    "logical_cores",
    "usable_cores",
    "physical_cores",
    "usable_physical_cores",
    "memory_gib",
    "os",
    "python",
)

# The measurement settings ``bench:settings`` lists, in this order, for every profile.
SETTINGS = (
    "warmup_iters",
    "warmup_s",
    "min_iters",
    "min_s",
    "reference_min_s",
    "round_warmup_s",
    "max_iters",
    "rounds",
    "eval_limit",
    "noise_repeats",
    "training_scale",
    "timeout_s",
)


def machine(page: Renderer, arg: str | None, lang: str) -> str:
    """``bench:machine``: the machine card(s) behind the results on disk, folded."""
    if arg is not None:
        raise MarkerError("bench:machine takes no argument")
    page.machine_shown = True
    return machine_cards(page, sorted(page.experiments), lang) or not_measured(lang, "all")


def machine_cards(page: Renderer, experiments: list[str], lang: str) -> str:
    """The machine card(s) behind ``experiments``' stored results, each in a folded box whose
    title names the CPU; empty where none of them has results."""
    cards: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for name in experiments:
        stored, _ = page.stored(name)
        if stored is not None:
            card = stored.machine
            cards.setdefault(card["machine_id"], (card, []))[1].append(f"`{name}`")
    blocks = []
    for card, names in cards.values():
        rows = [
            (t(lang, "cpu"), f"{md_text(card['cpu'])} ({md_text(card['arch'])})"),
            (t(lang, "isa"), ", ".join(md_text(f) for f in card["isa"]) or "-"),
            (t(lang, "cores"), md_text(card["logical_cores"])),
            (t(lang, "memory"), md_text(card["memory_gib"])),
            (t(lang, "os"), md_text(card["os"])),
            (t(lang, "python"), md_text(card["python"])),
            (
                t(lang, "packages"),
                ", ".join(f"{md_text(k)} {md_text(v)}" for k, v in card["packages"].items()),
            ),
            (t(lang, "commit"), md_code(card["commit"])),
            (t(lang, "date"), md_text(card["date"])),
            (t(lang, "experiments"), ", ".join(names)),
        ]
        table = markdown_table(pd.DataFrame(rows, columns=[t(lang, "machine"), md_text(card["machine_id"])]))
        title = START_HERE[lang]["machine_title"].format(cpu=md_text(card["cpu"]), arch=md_text(card["arch"]))
        blocks.append(folded("info", title.replace('"', "'"), table))
    return "\n".join(blocks)


def folded(kind: str, title: str, body: str) -> str:
    """A collapsed admonition (pymdownx.details): the title shows, the body opens on a click."""
    indented = "\n".join(f"    {line}" if line else "" for line in body.splitlines())
    return f'??? {kind} "{title}"\n\n{indented}\n'


def card(page: Renderer, spec: str | None, lang: str) -> str:
    """``bench:card FIELD`` or ``bench:card package:NAME``, inline: one field of the machine
    card(s) behind this build's results."""
    field, _, package = (spec or "").partition(":")
    if field not in CARD_FIELDS and not (field == "package" and package):
        known = ", ".join(CARD_FIELDS)
        raise MarkerError(f"bench:card {spec!r}: expected one of {known} or package:NAME")
    values: list[str] = []
    for name in sorted(page.experiments):
        stored, _ = page.stored(name)
        if stored is None:
            continue
        machine_card = stored.machine
        if field == "package":
            if package not in machine_card.get("packages", {}):
                raise MarkerError(f"bench:card {spec}: the machine card records no package {package!r}")
            value: Any = machine_card["packages"][package]
        else:
            value = machine_card.get(field)
        text = (", ".join(value) or "-") if isinstance(value, list) else str(value)
        if text not in values:
            values.append(text)
    return " / ".join(md_text(v) for v in values) if values else t(lang, "figure_missing")


def releases(page: Renderer, exp: str | None, lang: str) -> str:
    """``bench:releases EXP``: the experiment across archived releases and this build, speed
    beside quality."""
    current, notice = page.load(exp, lang)
    assert exp is not None
    versions: list[tuple[str, ExperimentResult]] = []
    if page.archive.is_dir():
        for folder in sorted(p for p in page.archive.iterdir() if p.is_dir()):
            try:
                stored, _ = page.stored(exp, folder)
            except MarkerError as exc:
                raise MarkerError(f"archived release {folder.name}: {exc}") from exc
            if stored is not None and stored.status == "ok":
                versions.append((md_text(folder.name), stored))
    if current is not None:
        versions.append((t(lang, "this_build"), current))
    if not versions:
        return notice
    if len(versions) == 1 and current is not None:
        notice += admonition("info", t(lang, "no_archive"), t(lang, "no_archive_body"))
    rows = []
    for version, result in versions:
        for point in result.points:
            for name, entry in point["variants"].items():
                speed = entry.get("speedup")
                rows.append(
                    {
                        t(lang, "release"): version,
                        t(lang, "point"): point_label(point["params"], lang),
                        t(lang, "variant"): md_code(name),
                        t(lang, "p50"): fmt(entry["latency"]["p50"]),
                        t(lang, "speedup_plain"): (
                            f"{speed['median']:.2f}×" if speed else t(lang, "baseline")
                        ),
                        **{
                            t(lang, key): metric(key, value)
                            for key, value in result.variants[name].get("quality", {}).items()
                            if key in HEADLINE_METRICS
                        },
                        t(lang, "commit"): md_code(result.machine.get("commit", "?")),
                    }
                )
    return f"{notice}\n{bench_table(markdown_table(pd.DataFrame(rows)))}"


def settings(page: Renderer, arg: str | None, lang: str) -> str:
    """``bench:settings``: the measurement settings of each profile, read from the code that
    applies them."""
    if arg is not None:
        raise MarkerError("bench:settings takes no argument")
    rows = []
    for key in SETTINGS:
        row = {"": t(lang, key)}
        for name, prof in PROFILES.items():
            value = getattr(prof.settings, key, None) if hasattr(prof.settings, key) else getattr(prof, key)
            if key == "reference_min_s" and value is None:
                value = prof.settings.min_s  # no longer rounds there
            row[f"`{name}`"] = t(lang, "all") if value is None else str(value)
        rows.append(row)
    return markdown_table(pd.DataFrame(rows)) + "\n"


def durations(page: Renderer, arg: str | None, lang: str) -> str:
    """``bench:durations``: how long each experiment's last run took on the build machine (the
    cost of `make site`)."""
    if arg is not None:
        raise MarkerError("bench:durations takes no argument")
    rows = []
    total = 0.0
    for name in sorted(page.experiments):
        stored, failure = page.stored(name)
        last = failure or stored
        if last is None:
            continue
        total += last.duration_s
        rows.append(
            {
                t(lang, "experiments"): f"`{name}`",
                t(lang, "profile"): md_text(last.profile),
                t(lang, "status"): md_text(last.status),
                t(lang, "duration"): f"{last.duration_s:.1f}",
            }
        )
    if not rows:
        return not_measured(lang, "all")
    rows.append(
        {
            t(lang, "experiments"): f"**{t(lang, 'total')}**",
            t(lang, "profile"): "",
            t(lang, "status"): "",
            t(lang, "duration"): f"**{total:.0f}**",
        }
    )
    return markdown_table(pd.DataFrame(rows)) + "\n"
