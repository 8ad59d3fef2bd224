"""MkDocs hook: results into pages, plotly.js from the site, build stamp on every page.

Plugin-specific glue lives here and only here; pages stay plain Markdown with
``<!-- bench:KIND EXPERIMENT -->`` markers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from benchmarks import results as results_mod
from benchmarks.machine import git_commit
from benchmarks.report import MarkerError, Renderer, download_links
from benchmarks.report.build import machine_cards
from benchmarks.report.downloads import machines_frame

# plotly.js's basic distribution (bar, pie, scatter: every trace the site draws), vendored with
# its sha256: a quarter of the full bundle the plotly Python package ships (vendor/plotly/README.md).
VENDOR = Path(__file__).resolve().parent.parent / "vendor" / "plotly"
PLOTLY_JS = VENDOR / "plotly-basic.min.js"
PLOTLY_SHA256 = VENDOR / "plotly-basic.min.js.sha256"
PLOTLY_TARGET = "assets/javascripts/plotly.min.js"
_NEW_PLOT = re.compile(r'Plotly\.newPlot\(\s*"[^"]*"\s*,\s*')
_renderer: Renderer | None = None


def page_language(page: Page) -> str:
    locale = getattr(page.file, "locale", None)
    if locale:
        return str(locale)
    return "zh" if page.file.src_uri.endswith(".zh.md") else "en"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _renderer
    _renderer = Renderer()
    config.extra["build"] = {
        "version": os.environ.get("SITE_VERSION", "").strip() or None,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
    }
    return config


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    assert _renderer is not None
    try:
        rendered, charts = _renderer.render(markdown, page_language(page))
    except MarkerError as exc:
        raise PluginError(f"{page.file.src_uri}: {exc}") from exc
    page.meta["plotly"] = charts > 0
    shown = {exp for exp in _renderer.used if _has_results(exp)}
    if shown:
        prefix = "../" * page.file.url.count("/")
        if not _renderer.machine_shown:  # every page with figures names, folded, the machine behind them
            rendered += "\n\n" + machine_cards(_renderer, sorted(shown), page_language(page))
        rendered += download_links(shown, page_language(page), prefix)
    return rendered + abbreviations(page_language(page))


ABBREVIATIONS = Path(__file__).resolve().parent.parent / "docs" / "includes"


def abbreviations(language: str) -> str:
    """The page language's abbreviation definitions (``*[p50]: ...``), for the ``abbr`` extension.

    One file per language (docs/includes/abbreviations[.zh].md, excluded from the site), so that
    a Chinese page gets Chinese tooltips; appended here rather than by pymdownx.snippets'
    ``auto_append``, which would append one file to every page whatever its language.
    """
    name = "abbreviations.md" if language == "en" else f"abbreviations.{language}.md"
    path = ABBREVIATIONS / name
    if not path.is_file():
        raise PluginError(f"{path} is missing: every language needs its abbreviations file")
    text = re.sub(r"<!--.*?-->", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return "\n\n" + text.strip() + "\n"


def _has_results(exp: str) -> bool:
    return (results_mod.results_dir() / results_mod.file_name(exp)).is_file()


def plotly_js() -> bytes:
    """The vendored plotly.js, refused unless its sha256 is the one recorded beside it."""
    if not PLOTLY_JS.is_file() or not PLOTLY_SHA256.is_file():
        raise PluginError(f"plotly.js or its sha256 is missing in {VENDOR} (see its README.md)")
    data = PLOTLY_JS.read_bytes()
    expected = PLOTLY_SHA256.read_text().split()[0].lower()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise PluginError(
            f"{PLOTLY_JS} has sha256 {actual}, but {PLOTLY_SHA256.name} records {expected}: "
            "the vendored plotly.js was changed; restore it or refresh both (vendor/plotly/README.md)"
        )
    return data


def bundle_trace_types(js: bytes) -> set[str]:
    """The trace modules a plotly.js bundle registers."""
    return {name.decode() for name in re.findall(rb'moduleType:"trace",name:"(\w+)"', js)}


def chart_trace_types(html: str) -> set[str]:
    """The trace types of every ``Plotly.newPlot`` call in a page (plotly's default is scatter)."""
    found: set[str] = set()
    decoder = json.JSONDecoder()
    for match in _NEW_PLOT.finditer(html):
        traces, _ = decoder.raw_decode(html, match.end())
        found.update(str(trace.get("type", "scatter")) for trace in traces)
    return found


def check_chart_traces(site: Path, available: set[str]) -> None:
    """Fail the build on a chart the served plotly.js cannot draw (it would stay blank)."""
    missing: dict[str, set[str]] = {}
    for page in sorted(site.rglob("*.html")):
        lacking = chart_trace_types(page.read_text(encoding="utf-8")) - available
        if lacking:
            missing[str(page.relative_to(site))] = lacking
    if missing:
        raise PluginError(
            f"charts use trace types the vendored plotly.js ({', '.join(sorted(available))}) lacks: "
            f"{missing}; vendor a bundle that has them (vendor/plotly/README.md)"
        )


def on_post_build(config: MkDocsConfig) -> None:
    js = plotly_js()
    target = Path(config.site_dir) / PLOTLY_TARGET
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(js)
    check_chart_traces(Path(config.site_dir), bundle_trace_types(js))
    # Every results file is offered for download, as written (JSON) and as a flat table (CSV).
    downloads = Path(config.site_dir) / "results"
    downloads.mkdir(exist_ok=True)
    for path in sorted(results_mod.results_dir().glob("*.json")):
        try:
            result = results_mod.load(path)
        except results_mod.ResultsError as exc:
            raise PluginError(str(exc)) from exc
        shutil.copyfile(path, downloads / path.name)
        # With the same experiment's rows from every imported machine, each row naming its machine.
        machines_frame(result).to_csv(downloads / (path.stem + ".csv"), index=False)
