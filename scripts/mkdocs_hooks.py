"""MkDocs hook: results into pages, plotly.js from the site, build stamp on every page.

Plugin-specific glue lives here and only here; pages stay plain Markdown with
``<!-- bench:KIND EXPERIMENT -->`` markers.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import plotly
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from benchmarks import results as results_mod
from benchmarks.machine import git_commit
from benchmarks.report import MarkerError, Renderer, download_links, results_frame

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_TARGET = "assets/javascripts/plotly.min.js"
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
        rendered += download_links(shown, page_language(page), prefix)
    return rendered


def _has_results(exp: str) -> bool:
    return (results_mod.results_dir() / results_mod.file_name(exp)).is_file()


def on_post_build(config: MkDocsConfig) -> None:
    if not PLOTLY_JS.is_file():
        raise PluginError(f"plotly.js not found at {PLOTLY_JS}; reinstall plotly")
    target = Path(config.site_dir) / PLOTLY_TARGET
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PLOTLY_JS, target)
    # Every results file is offered for download, as written (JSON) and as a flat table (CSV).
    downloads = Path(config.site_dir) / "results"
    downloads.mkdir(exist_ok=True)
    for path in sorted(results_mod.results_dir().glob("*.json")):
        try:
            result = results_mod.load(path)
        except results_mod.ResultsError as exc:
            raise PluginError(str(exc)) from exc
        shutil.copyfile(path, downloads / path.name)
        results_frame(result).to_csv(downloads / (path.stem + ".csv"), index=False)
