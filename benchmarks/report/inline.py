"""Markers that write one figure or one word inside a sentence: ``bench:figure``, ``bench:direction``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchmarks.harness import MIN_CALLS, percentile_supported
from benchmarks.report.escape import md_text
from benchmarks.report.markup import (
    MarkerError,
    fmt,
    interval_level,
    metric,
    point_label,
    point_spec,
    speedup_tip,
)
from benchmarks.report.strings import t
from benchmarks.results import ExperimentResult

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer


def _point(
    kind: str, spec: str | None, exp: str, result: ExperimentResult, params: dict[str, int]
) -> dict[str, Any] | None:
    """The measured point ``params`` names (a one-point experiment needs none), or None when a
    smaller profile's grid does not reach it."""
    keys = {frozenset(p["params"]) for p in result.points}
    if params and frozenset(params) not in keys:
        raise MarkerError(f"bench:{kind} {spec}: {exp} is not measured over {sorted(params)}")
    point = next((p for p in result.points if p["params"] == params), None)
    if not params and len(result.points) == 1:
        point = result.points[0]
    return point


# How a figure may be written, after a ``;`` at the end of its marker: ``tip`` keeps a speedup's
# interval in a tooltip (``1.35×`` with the interval on hover) instead of printing it in the
# sentence; ``pct`` writes a fraction as a percentage; ``num`` writes a throughput without its
# unit, for a sentence that names it ("12,371 images per second").
FIGURE_OPTIONS = ("tip", "pct", "num")


def figure_options(spec: str | None) -> tuple[str | None, set[str]]:
    """``EXP:VARIANT:METRIC@...;opt+opt`` split into the figure's spec and its options."""
    if spec is None or ";" not in spec:
        return spec, set()
    spec, _, written = spec.partition(";")
    options = {o for o in written.split("+") if o}
    unknown = options - set(FIGURE_OPTIONS)
    if unknown or not options:
        raise MarkerError(f"bench:figure {spec};{written}: options are {', '.join(FIGURE_OPTIONS)}")
    return spec, options


def _speedup(speed: dict[str, Any], lang: str, tip: bool) -> str:
    if tip:
        return speedup_tip(speed, lang)
    # Escaped brackets: text right after the figure must not turn it into a link.
    level = f" ({interval_level([speed])} {t(lang, 'ci')})" if "confidence" in speed else ""
    return f"{speed['median']:.2f}× \\[{speed['ci_low']:.2f}, {speed['ci_high']:.2f}\\]{level}"


def _fraction(value: Any, spec: str | None) -> str:
    try:
        return f"{float(value):.1%}"
    except (TypeError, ValueError):
        raise MarkerError(f"bench:figure {spec}: {value!r} is not a fraction") from None


def figure(page: Renderer, spec: str | None, lang: str) -> str:
    """One number inline: ``EXP:VARIANT:METRIC`` or ``EXP:VARIANT:METRIC@batch=1,seq_len=128``,
    optionally followed by ``;`` and options (``FIGURE_OPTIONS``)."""
    spec, options = figure_options(spec)
    (exp, variant, name), params = point_spec("figure", spec, "EXP:VARIANT:METRIC")
    result, _ = page.load(exp, lang)
    if result is None:
        return t(lang, "figure_missing")
    if variant not in result.variants:
        raise MarkerError(f"bench:figure {spec}: no variant {variant!r} in {exp}")
    record = result.variants[variant]
    costs = result.one_time_costs.get(variant, {})
    if name in record.get("quality", {}):
        value = record["quality"][name]
        return _fraction(value, spec) if "pct" in options else metric(name, value)
    if name in costs:
        return f"{costs[name]:.2f} s"
    if name == "peak_rss_mb":
        return f"{record['memory']['peak_rss_mb']:.0f} MB"
    if name in record.get("info", {}):
        value = record["info"][name]
        if "pct" in options:
            return _fraction(value, spec)
        return fmt(value) if isinstance(value, float) else md_text(value)
    point = _point("figure", spec, exp, result, params)
    if point is None:
        return t(lang, "figure_missing_point").format(
            point=point_label(params, lang), profile=md_text(result.profile)
        )
    entry = point["variants"][variant]
    if name == "speedup":
        return _speedup(entry["speedup"], lang, "tip" in options)
    if name in ("p50", "p90", "p99"):
        if not percentile_supported(entry["latency"], name):
            return t(lang, "figure_too_few_calls").format(
                metric=name, n=md_text(entry["latency"].get("count", "?")), need=MIN_CALLS[name]
            )
        n = f" (n={entry['latency']['count']})" if name != "p50" else ""
        return f"{fmt(entry['latency'][name])} ms{n}"
    if name == "throughput":
        value = fmt(entry["throughput_per_s"])
        return value if "num" in options else f"{value}/s"
    raise MarkerError(f"bench:figure {spec}: unknown metric {name!r}")


def direction(page: Renderer, spec: str | None, lang: str) -> str:
    """A direction word from a measured speedup: ``EXP:VARIANT@key=value,...``.

    "faster" when the whole interval lies above 1×, "slower" when it lies below, and a
    phrase that says neither otherwise, so a sentence never types the outcome by hand.
    """
    (exp, variant), params = point_spec("direction", spec, "EXP:VARIANT")
    result, _ = page.load(exp, lang)
    if result is None:
        return t(lang, "figure_missing")
    if variant not in result.variants:
        raise MarkerError(f"bench:direction {spec}: no variant {variant!r} in {exp}")
    if variant == result.config.get("baseline"):
        raise MarkerError(f"bench:direction {spec}: {variant!r} is the baseline of {exp}")
    point = _point("direction", spec, exp, result, params)
    if point is None:
        return t(lang, "figure_missing_point").format(
            point=point_label(params, lang), profile=md_text(result.profile)
        )
    speed = point["variants"][variant]["speedup"]
    if speed["ci_low"] > 1.0:
        return t(lang, "faster")
    if speed["ci_high"] < 1.0:
        return t(lang, "slower")
    return t(lang, "no_direction")
