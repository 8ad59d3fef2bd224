"""The vendored plotly.js basic bundle: the version plotly (Python) bundles, unchanged, and able to
draw every chart the site makes."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest
from mkdocs.exceptions import PluginError

REPO = Path(__file__).resolve().parent.parent
FULL_BUNDLE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
_spec = importlib.util.spec_from_file_location("mkdocs_hooks_for_tests", REPO / "scripts" / "mkdocs_hooks.py")
assert _spec and _spec.loader
hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)

# Sources of every chart on the site: the report's charts and the tutorials' own.
CHART_SOURCES = [
    *sorted((REPO / "benchmarks" / "report").glob("*.py")),
    *sorted((REPO / "scripts").glob("*.py")),
    *sorted((REPO / "docs" / "tutorials").glob("*.ipynb")),
]
# Figure methods that add layout items, not traces.
NOT_TRACES = {
    "hline",
    "vline",
    "hrect",
    "vrect",
    "shape",
    "annotation",
    "layout_image",
    "selection",
    "trace",
    "traces",
}


def banner_version(path: Path) -> str:
    match = re.search(r"plotly\.js (?:\([^)]*\) )?v(\d+\.\d+\.\d+)", path.read_text(encoding="utf-8")[:300])
    assert match, f"{path}: no plotly.js version banner"
    return match[1]


def source_text(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return path.read_text(encoding="utf-8")


def used_trace_types() -> dict[str, set[str]]:
    """Trace types named in the chart code: ``go.Bar(...)``, ``fig.add_scatter(...)``."""
    used: dict[str, set[str]] = {}
    for path in CHART_SOURCES:
        text = source_text(path)
        if "plotly" not in text:  # no chart here (``parser.add_argument`` is no trace)
            continue
        names = {m.lower() for m in re.findall(r"\bgo\.([A-Z]\w*)\(", text)} - {"figure", "layout"}
        names |= set(re.findall(r"\.add_(\w+)\(", text)) - NOT_TRACES
        if names:
            used[str(path.relative_to(REPO))] = names
    return used


def test_vendored_version_is_the_one_plotly_python_bundles():
    vendored = banner_version(hooks.PLOTLY_JS)
    assert vendored == banner_version(FULL_BUNDLE), (
        f"vendor/plotly has plotly.js {vendored}, the plotly package bundles "
        f"{banner_version(FULL_BUNDLE)}: refresh vendor/plotly (its README.md says how)"
    )
    assert "basic" in hooks.PLOTLY_JS.read_text(encoding="utf-8")[:200]
    assert hooks.PLOTLY_JS.stat().st_size < FULL_BUNDLE.stat().st_size / 3


def test_build_accepts_the_recorded_file_and_refuses_a_changed_one(tmp_path, monkeypatch):
    assert hooks.plotly_js() == hooks.PLOTLY_JS.read_bytes()
    changed = tmp_path / "plotly-basic.min.js"
    changed.write_bytes(hooks.PLOTLY_JS.read_bytes() + b"\n// changed")
    monkeypatch.setattr(hooks, "PLOTLY_JS", changed)
    with pytest.raises(PluginError, match="sha256"):
        hooks.plotly_js()


def test_every_trace_type_the_charts_use_is_in_the_basic_bundle():
    available = hooks.bundle_trace_types(hooks.PLOTLY_JS.read_bytes())
    assert {"bar", "scatter"} <= available
    used = used_trace_types()
    assert used, "no chart code found: the scan is broken"
    assert set().union(*used.values()) >= {"bar", "scatter"}
    lacking = {path: names - available for path, names in used.items() if names - available}
    assert not lacking, f"trace types missing from plotly.js basic ({sorted(available)}): {lacking}"
    # plotly express picks trace types itself (histogram, box...): keep it out of the charts.
    express = [str(p.relative_to(REPO)) for p in CHART_SOURCES if "plotly.express" in source_text(p)]
    assert not express, express


def test_build_refuses_a_chart_the_bundle_cannot_draw(tmp_path):
    from benchmarks.report.charts import chart_html

    fig = go.Figure()
    fig.add_bar(x=["a"], y=[1])
    fig.add_scatter(x=[1], y=[2])
    page = tmp_path / "ok.html"
    page.write_text(chart_html(fig, "ok"), encoding="utf-8")
    assert hooks.chart_trace_types(page.read_text(encoding="utf-8")) == {"bar", "scatter"}
    hooks.check_chart_traces(tmp_path, {"bar", "scatter", "pie"})

    heat = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "heat.html").write_text(chart_html(heat, "heat"), encoding="utf-8")
    with pytest.raises(PluginError, match="heatmap"):
        hooks.check_chart_traces(tmp_path, {"bar", "scatter", "pie"})
