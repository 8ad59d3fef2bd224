"""Tutorial notebooks: executed by the build in both languages, cached, and fatal when they raise."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.conftest import BIN, REPO

TUTORIALS = REPO / "docs" / "tutorials"
NOTEBOOKS = sorted(p.name.removesuffix(".ipynb") for p in TUTORIALS.glob("*.ipynb") if ".zh." not in p.name)
# A figure each notebook prints from its own run: proof that the page shows executed output.
PRINTED = {
    "quantize-minilm": r"quantised in \d+\.\d s: \d+\.\d MB -&gt; \d+\.\d MB",
    "prune-digits-cnn": r"baseline: test accuracy 0\.\d{4}, [\d,]+ parameters",
    "distil-digits-cnn": r"teacher: test accuracy 0\.\d{4}, [\d,]+ parameters",
}


def _load_hook():
    spec = importlib.util.spec_from_file_location("notebooks_hook", REPO / "scripts" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


hook = _load_hook()


def _notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, source in cells:
        new = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(new(source))
    return nb


def build_site(docs: Path, site: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``docs`` with the site's configuration, without its navigation.

    Slower than conftest's builder allows on a busy machine: the first build executes every notebook.
    """
    config = _site_config(docs, docs.parent / "mkdocs.yml")
    return subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=REPO,
        env={
            **os.environ,
            "BENCH_RESULTS_DIR": str(docs.parent / "no-results"),
            "BENCH_ARCHIVE_DIR": str(docs.parent / "no-archive"),
            "NO_MKDOCS_2_WARNING": "1",
        },
        capture_output=True,
        text=True,
        timeout=2400,
    )


def _site_config(docs: Path, path: Path) -> Path:
    """The site's own configuration, pointed at ``docs``, without the navigation (its pages are absent)."""
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    text = text.replace("docs_dir: docs", f"docs_dir: {docs}")
    text = text.replace("custom_dir: overrides", f"custom_dir: {REPO / 'overrides'}")
    text = re.sub(r"^(\s*-\s+)(scripts/\S+\.py)", lambda m: f"{m[1]}{REPO / m[2]}", text, flags=re.M)
    text = re.sub(r"^nav:\n(?:[ \t]+.*\n|\n)*", "", text, flags=re.M)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the notebooks as committed


def test_every_tutorial_has_its_twins():
    assert len(NOTEBOOKS) >= 3, NOTEBOOKS
    for stem in NOTEBOOKS:
        for name in (f"{stem}.zh.ipynb", f"{stem}.md", f"{stem}.zh.md"):
            assert (TUTORIALS / name).is_file(), f"{name} is missing"
        for page in (f"{stem}.md", f"{stem}.zh.md"):
            assert f"<!-- bench:notebook {stem} -->" in (TUTORIALS / page).read_text()
        hook.check_same_code(TUTORIALS / f"{stem}.ipynb", TUTORIALS / f"{stem}.zh.ipynb")


@pytest.mark.parametrize("name", sorted(p.name for p in TUTORIALS.glob("*.ipynb")))
def test_notebooks_are_committed_without_outputs(name):
    """Outputs come from the build, never from a file someone ran by hand."""
    nb = hook.read_notebook(TUTORIALS / name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{name}: stored outputs"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    # Figures come from the run: prose cells hold no measured values (units next to numbers).
    assert not re.search(r"\d\s*(ms|s|MB|%|x)\b", text), f"{name}: a figure typed into a text cell"


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_twins_have_the_same_skeleton(tmp_path, stem):
    """Rendered to Markdown, both languages pass the site's twin check (anchors, code blocks)."""
    check = _load_translation_check()
    for lang, suffix in (("en", ".md"), ("zh", ".zh.md")):
        path = hook.notebook_path(TUTORIALS, ".", stem, lang)
        nb = hook.read_notebook(path)
        empty = hook.Execution([[] for _ in hook.code_cells(nb)], "now", 0.0, cached=False)
        markdown = hook.Converter(stem, lang).convert(nb, empty, path.name, f"{stem}.ipynb")
        (tmp_path / f"{stem}{suffix}").write_text(markdown, encoding="utf-8")
    assert check.check(tmp_path) == []


def _load_translation_check():
    spec = importlib.util.spec_from_file_location(
        "check_translations", REPO / "scripts/check_translations.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_twins_must_run_the_same_code(tmp_path):
    nbformat.write(_notebook([("code", "x = 1")]), tmp_path / "a.ipynb")
    nbformat.write(_notebook([("code", "x = 2")]), tmp_path / "a.zh.ipynb")
    with pytest.raises(hook.NotebookError, match=r"code cell 1 of a\.zh\.ipynb differs"):
        hook.check_same_code(tmp_path / "a.ipynb", tmp_path / "a.zh.ipynb")


# --------------------------------------------------------------------------- execution and cache


def test_execution_is_stored_and_keyed_by_code_and_pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "tiny.ipynb"
    code = (
        "import logging, warnings\n"
        "from benchmarks.harness import MeasureSettings\n"
        "warnings.warn('a library deprecation notice')\n"
        "logging.getLogger('somelib').warning('a library load message')\n"
        "print(MeasureSettings().rounds * 7)\n"
        "import benchmarks; print(benchmarks.__file__)"
    )
    nbformat.write(_notebook([("md", "# Tiny { #tiny }"), ("code", code)]), path)
    store = tmp_path / "cache" / "notebooks"

    first = hook.execute(path)
    assert not first.cached
    (output,) = first.outputs[0]  # library warnings and log messages are silenced
    assert output["name"] == "stdout", first.outputs
    assert output["text"].split("\n")[0] == str(5 * 7)
    # The checkout's location never reaches a page.
    assert output["text"].split("\n")[1] == "benchmarks/__init__.py"
    assert str(REPO) not in json.dumps(first.outputs)
    (entry,) = store.glob("*.json")
    record = json.loads(entry.read_text())
    assert "benchmarks/harness.py" in record["dependencies"]  # what the kernel really loaded

    second = hook.execute(path)
    assert second.cached and second.outputs == first.outputs

    # A changed pipeline file invalidates the entry: its recorded hash no longer matches.
    record["dependencies"]["benchmarks/harness.py"] = "0" * 64
    entry.write_text(json.dumps(record))
    assert not hook.execute(path).cached
    assert hook.execute(path).cached
    # Other code is another entry.
    nbformat.write(_notebook([("code", "print(6 * 7)")]), path)
    assert hook.execute(path).outputs[0][0]["text"].strip() == "42"
    assert len(list(store.glob("*.json"))) == 2


def test_outputs_become_markdown():
    nb = _notebook([("md", "# Demo { #demo }"), ("code", "run()"), ("code", "show()")])
    stdout = [
        {"output_type": "stream", "name": "stdout", "text": "50%\r"},
        {"output_type": "stream", "name": "stdout", "text": "100%\n"},
    ]
    stderr = {"output_type": "stream", "name": "stderr", "text": "\x1b[31mwarning\x1b[0m\n"}
    chart = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"application/vnd.plotly.v1+json": {"data": [], "layout": {}}, "text/plain": "Figure"},
    }
    table = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/markdown": "| a |\n|---|\n| 1 |", "text/plain": "x"},
    }
    execution = hook.Execution([[*stdout, stderr], [chart, table]], "2026-01-01 00:00 UTC", 3.0, cached=True)
    converter = hook.Converter("demo", "zh")
    markdown = converter.convert(nb, execution, "demo.zh.ipynb", "demo.ipynb")
    # The note right under the title, then the code, its merged stdout, its stderr folded away.
    order = ["# Demo", '!!! info "由本次构建执行"', "```python\nrun()"]
    assert [markdown.index(s) for s in order] == sorted(markdown.index(s) for s in order)
    assert "[demo.ipynb](demo.zh.ipynb)" in markdown and "2026-01-01 00:00 UTC" in markdown
    assert '``` title="输出"\n100%\n```' in markdown
    assert '??? note "标准错误输出中的消息"\n\n    ```text\n    warning\n    ```' in markdown
    # A plotly figure becomes a chart drawn by the site's plotly.js; a Markdown table stays Markdown.
    assert 'class="bench-chart"' in markdown and 'id="nb-demo-1"' in markdown and converter.charts == 1
    assert "Plotly.newPlot" in markdown and "cdn" not in markdown.lower() and "Figure" not in markdown
    assert "| a |\n|---|\n| 1 |" in markdown


def test_an_error_output_is_refused():
    nb = _notebook([("code", "boom()")])
    error = {"output_type": "error", "ename": "NameError", "evalue": "boom", "traceback": []}
    with pytest.raises(hook.NotebookError, match="a stored output is an error: NameError"):
        execution = hook.Execution([[error]], "now", 0.0, cached=False)
        hook.Converter("demo", "en").convert(nb, execution, "d.ipynb", "d.ipynb")


# --------------------------------------------------------------------------- the built pages


@pytest.fixture(scope="module")
def tutorial_site(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """The tutorials built with the site's configuration; notebooks run in the test cache."""
    root = tmp_path_factory.mktemp("tutorials")
    docs = root / "docs"
    (docs / "stylesheets").mkdir(parents=True)
    shutil.copy(REPO / "docs/stylesheets/extra.css", docs / "stylesheets")
    for name in ("index.md", "index.zh.md"):
        (docs / name).write_text("# Tutorials { #tutorials }\n")
    # Each tutorial links back to its technique page: a stub stands in for it here.
    linked = set(re.findall(r"\.\./([a-z-]+)\.md", "".join(p.read_text() for p in TUTORIALS.glob("*.ipynb"))))
    for page in linked:
        for suffix in (".md", ".zh.md"):
            (docs / f"{page}{suffix}").write_text(f"# {page} {{ #{page} }}\n")
    shutil.copytree(TUTORIALS, docs / "tutorials")
    site = root / "site"
    proc = build_site(docs, site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site


@pytest.mark.slow  # executes the tutorials
@pytest.mark.parametrize("stem", NOTEBOOKS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_notebook_page_shows_executed_outputs(tutorial_site, stem, lang):
    prefix = "" if lang == "en" else "zh/"
    page = tutorial_site / f"{prefix}tutorials/{stem}.html"
    html = page.read_text(encoding="utf-8")
    assert f'<html lang="{lang}"' in html
    assert re.search(PRINTED[stem], html), "no figure printed by the run"
    assert ("由本次构建执行" if lang == "zh" else "Executed by this build") in html
    # Charts drawn by the site's plotly.js, loaded in <head> before the inline calls.
    assert f'id="nb-{stem}-1"' in html and "Plotly.newPlot" in html
    head = html[: html.index("</head>")]
    assert re.search(r'<script src="[./]*assets/javascripts/plotly\.min\.js"', head)
    # Rendered, not dumped: no notebook JSON, no error output.
    assert '"cell_type"' not in html and '"nbformat"' not in html and "Traceback" not in html
    # Nothing loaded from outside (links may point anywhere).
    loaded = re.findall(r'<script[^>]*\ssrc="(https?:[^"]+)"', html)
    loaded += re.findall(r'<link[^>]*\shref="(https?:[^"]+)"', html)
    assert not loaded, loaded
    assert "mathjax" not in html.lower()
    # Outputs name no path of the build machine and carry no library warnings.
    assert str(REPO) not in html and "Warning:" not in html and ".venv" not in html
    # The notebook can be downloaded from beside the page, in the page's language.
    assert f'href="{stem}.ipynb"' in html
    source = TUTORIALS / (f"{stem}.ipynb" if lang == "en" else f"{stem}.zh.ipynb")
    assert (page.parent / f"{stem}.ipynb").read_bytes() == source.read_bytes()


def test_broken_notebook_fails_the_build(tmp_path, cache_dir):
    docs = tmp_path / "docs"
    (docs / "tutorials").mkdir(parents=True)
    for name in ("index.md", "index.zh.md"):
        (docs / name).write_text("# Home { #home }\n")
    cells = [("md", "# Broken { #broken }"), ("code", "raise ValueError('deliberately broken')")]
    for name in ("broken.ipynb", "broken.zh.ipynb"):
        nbformat.write(_notebook(cells), docs / "tutorials" / name)
    for name in ("broken.md", "broken.zh.md"):
        (docs / "tutorials" / name).write_text("<!-- bench:notebook broken -->\n")
    proc = build_site(docs, tmp_path / "site")
    assert proc.returncode != 0
    assert "broken.ipynb: execution failed" in proc.stderr
    assert "ValueError: deliberately broken" in proc.stderr


def test_real_site_has_the_tutorials(built_site):
    for stem in NOTEBOOKS:
        for prefix in ("", "zh/"):
            html = (built_site / f"{prefix}tutorials/{stem}.html").read_text(encoding="utf-8")
            assert re.search(PRINTED[stem], html)


# --------------------------------------------------------------------------- in a browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tutorial_server(tutorial_site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(tutorial_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.browser
def test_notebook_chart_and_language_switch_in_a_browser(tutorial_server):
    from tests.conftest import CHROMIUM, FLAGS

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    stem = "prune-digits-cnn"
    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda r: None if r.url.startswith(tutorial_server) else outside.append(r.url))
        page.goto(f"{tutorial_server}/tutorials/{stem}.html")
        page.wait_for_selector(".bench-chart .js-plotly-plot svg.main-svg", timeout=15_000)
        assert page.locator(".bench-chart .js-plotly-plot").count() >= 2

        page.locator(".md-header__option .md-select").first.hover()
        page.locator('a.md-select__link[hreflang="zh"]').first.click()
        page.wait_for_url(f"{tutorial_server}/zh/tutorials/{stem}.html")
        assert page.locator("html").get_attribute("lang") == "zh"
        page.wait_for_selector(".bench-chart .js-plotly-plot svg.main-svg", timeout=15_000)
        assert "由本次构建执行" in page.content()

        # The download link serves the Chinese notebook.
        href = page.locator(f'.admonition a[href="{stem}.ipynb"]').first.get_attribute("href")
        response = page.request.get(f"{tutorial_server}/zh/tutorials/{href}")
        assert response.ok and "对手写数字 CNN 做修剪" in response.text()
        browser.close()
    assert not errors, errors
    assert not outside, f"requests left the site: {outside}"
