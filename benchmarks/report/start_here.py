"""The answer first: ``bench:start-here`` (the home page's steps per kind of model) and
``bench:decide goals|cpu`` (the decision aid), both chosen from this build's results.

The steps of a workload, in order: the recipe (``benchmarks.claims.recipes.select``, the rule
of the recipes page), then the fastest variant within the quality bar of the quantization page,
then of the pruning, low-rank and distillation pages (``benchmarks.summary.ranked``, the rule of
the home page's headline and the comparison table). A step whose best variant has no speedup
interval above 1× says so; a workload or page without results says "not measured in this build".

The decision aid picks, per workload and goal (one request, or the largest batch measured),
the fastest variant within each quality tolerance, and per CPU feature the figure of this
build that bears on it, or "not measured on this machine" where the machine card lacks it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import summary, workloads
from benchmarks.report.escape import md_text
from benchmarks.report.markup import (
    MarkerError,
    bench_table,
    labels,
    markdown_table,
    metric,
    point_label,
    speedup_tip,
)
from benchmarks.report.overview import COMPARISON_ROWS, speed_of
from benchmarks.report.strings import START_HERE, WORKLOADS, t, workload_name
from benchmarks.results import ExperimentResult

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer

DOCS = Path(__file__).resolve().parents[2] / "docs"

# Each technique's page on the site (and the recipes page).
PAGES = {technique: page for technique, _, page in COMPARISON_ROWS} | {
    "engines": "engines.md",
    "recipes": "recipes.md",
}

# The tutorials, by technique and workload.
TUTORIALS = {
    ("quantization", "minilm"): "tutorials/quantize-minilm.md",
    ("pruning", "digits-cnn"): "tutorials/prune-digits-cnn.md",
    ("distillation", "digits-cnn"): "tutorials/distil-digits-cnn.md",
}

# The steps after the recipe, in order: each takes the fastest variant within the bar among the
# techniques it names (their own variants, never a comparator timed beside them).
STEPS = (
    ("step:precision", ("quantization",)),
    ("step:shrink", ("pruning", "low_rank", "distillation")),
)

# The quality a step costs: the metrics the workload's bar reads (``meets_bar``).
COST_METRICS = {
    "minilm": ("topic_map_ratio", "cosine_mean"),
    "digits-cnn": ("accuracy",),
    "resnet50": ("top1_agreement", "cosine_mean"),
}

# Quality tolerances of the decision aid. Exact: outputs that match FP32's (cosine at least
# EXACT_COSINE, the same predictions); task loss: the share of the task score lost (MiniLM:
# topic MAP against FP32's; digits CNN: accuracy points; ResNet-50, random weights: images whose
# top-1 class differs from FP32's).
EXACT_COSINE = 0.9999
TASK_LOSS = 0.01
TOLERANCES = ("exact", "task_1", "any")

BASELINE = summary.BASELINE


def _text(lang: str, key: str) -> str:
    return START_HERE[lang][key]


# ---- figures and links ----------------------------------------------------------------------


def direction(speed: dict[str, Any], lang: str) -> str:
    if speed["ci_low"] > 1.0:
        return t(lang, "faster")
    if speed["ci_high"] < 1.0:
        return t(lang, "slower")
    return t(lang, "no_direction")


def speed_text(speed: dict[str, Any], lang: str) -> str:
    return _text(lang, "speed").format(speed=speedup_tip(speed, lang), direction=direction(speed, lang))


def cost(workload: str, quality: dict[str, Any], base: dict[str, Any], lang: str) -> str:
    """The quality a variant keeps, in the metrics its workload's bar reads."""
    parts = []
    for key in COST_METRICS.get(workload, ()):
        if key not in quality:
            continue
        part = f"{md_text(t(lang, key))} {metric(key, quality[key])}"
        if key == "accuracy" and key in base:
            part += _text(lang, "paren").format(_text(lang, "fp32").format(value=metric(key, base[key])))
        parts.append(part)
    return _text(lang, "semi").join(parts) or "-"


@functools.cache
def _anchors(page: str) -> str:
    path = DOCS / page
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def page_link(page: str, workload: str) -> str:
    """``page#workload`` where the page has a section for the workload, else the page."""
    return f"{page}#{workload}" if f"{{ #{workload} }}" in _anchors(page) else page


def links(lang: str, workload: str, techniques: tuple[str, ...], recipe: bool = False) -> str:
    found = []
    if recipe:
        found.append(f"[{_text(lang, 'recipe_link')}]({page_link(PAGES['recipes'], workload)})")
    pages = list(dict.fromkeys(PAGES[tech] for tech in techniques if tech in PAGES))
    found += [f"[{_text(lang, 'page_link')}]({page_link(page, workload)})" for page in pages[:1]]
    tutorials = [TUTORIALS[(tech, workload)] for tech in techniques if (tech, workload) in TUTORIALS]
    found += [f"[{_text(lang, 'tutorial_link')}]({tutorial})" for tutorial in tutorials[:1]]
    return " · ".join(found)


# ---- bench:start-here -----------------------------------------------------------------------


def _recipe_step(page: Renderer, results: dict[str, ExperimentResult], workload: str, lang: str) -> str:
    from benchmarks.claims.recipes import select

    title = f"**{_text(lang, 'step:engine')}**"
    exp = f"recipes/{workload}"
    result = results.get(exp)
    if result is None:
        return f"{title}{_text(lang, 'colon')}{_text(lang, 'not_measured')}"
    page.used.add(exp)
    chosen = select(result)
    more = links(lang, workload, ("engines",), recipe=True)
    colon, semi, stop = _text(lang, "colon"), _text(lang, "semi"), _text(lang, "stop")
    if chosen.recipe is None:
        return f"{title}{colon}{_text(lang, 'no_recipe')}{stop}{more}"
    point = next(p for p in result.points if p["params"] == chosen.params)
    speed = point["variants"][chosen.recipe.variant]["speedup"]
    base = result.variants.get(BASELINE, {}).get("quality", {})
    label = labels(result, lang)[chosen.recipe.variant]
    quality = _text(lang, "quality").format(quality=cost(workload, chosen.recipe.quality, base, lang))
    return f"{title}{colon}{label} — {speed_text(speed, lang)}{semi}{quality}{stop}{more}"


def _technique_step(
    page: Renderer,
    found: list[summary.Candidate],
    workload: str,
    key: str,
    techniques: tuple[str, ...],
    lang: str,
) -> str:
    title = f"**{_text(lang, key)}**"
    measured = [
        tech
        for tech in techniques
        if any(e.technique == tech and e.workload == workload for e in page.experiments.values())
    ]
    pool = [c for c in found if c.technique in techniques and c.own]
    colon, semi, stop = _text(lang, "colon"), _text(lang, "semi"), _text(lang, "stop")
    if not pool:
        return f"{title}{colon}{_text(lang, 'not_measured')}"
    top = next(iter(summary.ranked(pool)), None)
    page.used.update(c.experiment for c in pool)  # what the step was chosen from: downloads
    if top is None or top.ci_low <= 1.0:
        where = links(lang, workload, tuple(measured) or techniques)
        return f"{title}{colon}{_text(lang, 'no_gain')}{stop}{where}"
    quality = _text(lang, "quality").format(quality=cost(workload, top.quality, top.baseline_quality, lang))
    order = (top.technique, *(tech for tech in techniques if tech != top.technique))
    return (
        f"{title}{colon}{md_text(top.label_in(lang))} — {speed_text(speed_of(top), lang)}"
        f"{semi}{quality}{stop}{links(lang, workload, order)}"
    )


def start_here(page: Renderer, arg: str | None, lang: str) -> str:
    """Per kind of model: the steps to take, in order, each with its measured gain, its quality
    and links to the recipe, the technique page and the tutorial."""
    if arg is not None:
        raise MarkerError("bench:start-here takes no argument")
    results = page.all_ok()
    blocks, bars = [], []
    for workload in workloads.WORKLOADS:
        module = workloads.get(workload)
        kind = _kind(workload, lang)
        colon = _text(lang, "colon")
        where = _text(lang, "paren").format(point_label(module.REFERENCE_POINT, lang))
        lead = f"**{kind}**{colon}{workload_name(lang, workload)}{where}"
        found = summary.candidates(results, workload)
        if not found and f"recipes/{workload}" not in results:
            blocks.append(f"{lead}{colon}{_text(lang, 'not_measured')}")
            continue
        steps = [_recipe_step(page, results, workload, lang)]
        steps += [_technique_step(page, found, workload, key, techs, lang) for key, techs in STEPS]
        blocks.append(f"{lead}\n\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1)))
        bar = module.QUALITY_BAR_ZH if lang == "zh" else module.QUALITY_BAR
        bars.append(f"{workload_name(lang, workload)}{colon}{md_text(bar)}")
    note = _text(lang, "note")
    if bars:
        bar_word = t(lang, "quality_bar")
        note += f" {bar_word[:1].upper()}{bar_word[1:]}{_text(lang, 'colon')}" + " · ".join(bars)
    return "\n\n".join(blocks) + f"\n\n<small>{note}</small>\n"


def _kind(workload: str, lang: str) -> str:
    kind = WORKLOADS[lang].get(f"kind:{workload}", workload)
    return kind[:1].upper() + kind[1:]


# ---- bench:decide goals ---------------------------------------------------------------------


def task_loss(workload: str, quality: dict[str, Any], base: dict[str, Any]) -> float | None:
    """The share of the task score a variant loses against FP32 (None where not recorded)."""
    try:
        if workload == "minilm":
            return 1.0 - quality["topic_map_ratio"]
        if workload == "digits-cnn":
            return base["accuracy"] - quality["accuracy"]
        if workload == "resnet50":
            return 1.0 - quality["top1_agreement"]
    except KeyError:
        return None
    return None


def is_exact(workload: str, quality: dict[str, Any], base: dict[str, Any]) -> bool:
    """Outputs that match FP32's: the same predictions, and embeddings or logits at cosine
    ``EXACT_COSINE`` or more."""
    if workload == "digits-cnn":
        if "agreement_with_fp32" in quality:
            return quality["agreement_with_fp32"] >= 1.0
        return "accuracy" in quality and quality["accuracy"] == base.get("accuracy")
    if quality.get("cosine_mean", 0.0) < EXACT_COSINE:
        return False
    return workload != "resnet50" or quality.get("top1_agreement", 0.0) >= 1.0


def within(tolerance: str, c: summary.Candidate) -> bool:
    if tolerance == "exact":
        return is_exact(c.workload, c.quality, c.baseline_quality)
    if tolerance == "task_1":
        loss = task_loss(c.workload, c.quality, c.baseline_quality)
        return loss is not None and loss <= TASK_LOSS
    return bool(c.quality)


def throughput_point(results: dict[str, ExperimentResult], workload: str) -> dict[str, int] | None:
    """The largest batch measured against eager FP32 at the reference point's other settings;
    None where only the reference batch was measured."""
    reference = workloads.get(workload).REFERENCE_POINT
    rest = {k: v for k, v in reference.items() if k != "batch"}
    points = [
        p["params"]
        for r in results.values()
        if r.config.get("workload") == workload and r.config.get("baseline") == BASELINE
        for p in r.points
        if {k: v for k, v in p["params"].items() if k != "batch"} == rest and "batch" in p["params"]
    ]
    largest = max(points, key=lambda p: p["batch"], default=None)
    if largest is None or largest["batch"] <= reference.get("batch", 1):
        return None
    return largest


def _cell(page: Renderer, c: summary.Candidate | None, lang: str) -> str:
    if c is None:
        return "-"
    page.used.add(c.experiment)
    where = page_link(PAGES.get(c.technique, "comparison.md"), c.workload)
    return (
        f"[{md_text(c.label_in(lang))}]({where}){_text(lang, 'colon')}{speedup_tip(speed_of(c), lang)}"
        f"{_text(lang, 'paren').format(direction(speed_of(c), lang))}{_text(lang, 'semi')}"
        f"{cost(c.workload, c.quality, c.baseline_quality, lang)}"
    )


def goals(page: Renderer, lang: str) -> str:
    results = page.all_ok()
    rows = []
    for workload in workloads.WORKLOADS:
        module = workloads.get(workload)
        name = workload_name(lang, workload)
        for goal, params in (
            ("latency", module.REFERENCE_POINT),
            ("throughput", throughput_point(results, workload)),
        ):
            label = _text(lang, goal).format(point=point_label(params, lang)) if params else None
            row = {
                _text(lang, "goal"): f"{name}{_text(lang, 'colon')}{label or _text(lang, 'throughput_none')}"
            }
            found = summary.candidates(results, workload, params) if params else []
            for tolerance in TOLERANCES:
                pool = [c for c in found if within(tolerance, c)]
                best = summary.best(pool, within_bar=False)
                row[_text(lang, tolerance)] = (
                    _cell(page, best, lang) if found else _text(lang, "not_measured")
                )
            rows.append(row)
    colon, semi = _text(lang, "colon"), _text(lang, "semi")
    exact = semi.join(
        f"{workload_name(lang, w)}{colon}{_text(lang, f'exact_rule:{w}').format(cos=EXACT_COSINE)}"
        for w in workloads.WORKLOADS
    )
    loss = semi.join(
        f"{workload_name(lang, w)}{colon}{_text(lang, f'loss_rule:{w}')}" for w in workloads.WORKLOADS
    )
    note = _text(lang, "tolerance_note").format(exact=exact, loss=loss)
    return bench_table(markdown_table(_frame(rows))) + f"\n<small>{note}</small>\n"


def _frame(rows: list[dict[str, str]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows)


# ---- bench:decide cpu -----------------------------------------------------------------------

# Each feature: the machine-card ISA names that show it, and the precision of the variants whose
# figure bears on it (None: the instruction-set experiment, or the fastest within the bar).
FEATURES = (
    ("avx512", "AVX-512", ("AVX-512F",), "isa"),
    ("vnni", "VNNI", ("AVX-512 VNNI", "AVX-VNNI"), "int8"),
    ("amx", "AMX", ("AMX", "AMX-BF16", "AMX-INT8"), "bf16"),
    ("bf16", "BF16", ("AVX-512 BF16", "AMX-BF16"), "bf16"),
    ("arm", "Arm", ("NEON", "SVE"), "best"),
)
ARM = ("aarch64", "arm64")


def _cards(results: dict[str, ExperimentResult]) -> list[dict[str, Any]]:
    cards: dict[str, dict[str, Any]] = {}
    for result in results.values():
        card = result.machine or {}
        cards.setdefault(str(card.get("machine_id")), card)
    return list(cards.values())


def _listed(cards: list[dict[str, Any]], feature: str, names: tuple[str, ...]) -> list[str]:
    found = [isa for card in cards for isa in card.get("isa", []) if isa in names]
    if feature == "arm":
        found += [str(card["arch"]) for card in cards if str(card.get("arch", "")).lower() in ARM]
    return list(dict.fromkeys(found))


def computes_in(result: ExperimentResult, variant: str) -> str:
    """What a variant's heavy layers compute in, as its record says: int8, bf16 or fp32."""
    info = result.variants.get(variant, {}).get("info", {})
    recorded = str(info.get("compute_precision") or info.get("precision") or "").lower()
    return next((p for p in ("int8", "bf16") if p in recorded), "fp32")


def _figures(page: Renderer, results: dict[str, ExperimentResult], kind: str, lang: str) -> list[str]:
    figures = []
    for workload in workloads.WORKLOADS:
        name = workload_name(lang, workload)
        if kind == "isa":
            result = results.get(f"isa/{workload}")
            if result is None:
                continue
            point = next(
                (p for p in result.points if p["params"] == workloads.get(workload).REFERENCE_POINT),
                result.points[0],
            )
            names = labels(result, lang)
            for variant, entry in point["variants"].items():
                if "speedup" in entry and "avx2" in variant:
                    page.used.add(result.experiment)
                    speed = speedup_tip(entry["speedup"], lang)
                    figures.append(
                        _text(lang, "figure_isa").format(label=names[variant], speed=speed, name=name)
                    )
            continue
        found = summary.candidates(results, workload)
        if kind != "best":
            found = [c for c in found if computes_in(results[c.experiment], c.variant) == kind]
        top = summary.best(found)
        if top is None:
            continue
        page.used.add(top.experiment)
        figures.append(
            _text(lang, "figure_variant").format(
                label=md_text(top.label_in(lang)),
                speed=speedup_tip(speed_of(top), lang),
                name=name,
                quality=cost(workload, top.quality, top.baseline_quality, lang),
            )
        )
    return figures


def cpu(page: Renderer, lang: str) -> str:
    results = page.all_ok()
    cards = _cards(results)
    rows = []
    for key, feature, names, kind in FEATURES:
        listed = _listed(cards, key, names)
        if not cards:
            figure = _text(lang, "not_measured")
        elif not listed:
            figure = _text(lang, "not_measured_machine")
        else:
            figure = "<br>".join(_figures(page, results, kind, lang)) or _text(lang, "not_measured")
        rows.append(
            {
                _text(lang, "feature"): feature,
                _text(lang, "card"): (
                    _text(lang, "listed").format(names=", ".join(md_text(n) for n in listed))
                    if listed
                    else _text(lang, "not_listed")
                ),
                _text(lang, "try"): _text(lang, f"try:{key}"),
                _text(lang, "measured"): figure,
            }
        )
    return bench_table(markdown_table(_frame(rows)))


def decide(page: Renderer, arg: str | None, lang: str) -> str:
    """``bench:decide goals`` (goal and quality tolerance) or ``bench:decide cpu`` (CPU features)."""
    if arg == "goals":
        return goals(page, lang)
    if arg == "cpu":
        return cpu(page, lang)
    raise MarkerError(f"bench:decide {arg!r}: expected goals or cpu")
