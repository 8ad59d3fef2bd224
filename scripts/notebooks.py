"""MkDocs hook: executed Jupyter notebooks as tutorial pages, in both languages.

A page ``tutorials/x.md`` (and its twin ``x.zh.md``) holds the marker
``<!-- bench:notebook x -->``; this hook replaces it with the notebook
``x.ipynb`` (or ``x.zh.ipynb`` on the Chinese page), executed by this build and
converted to Markdown by nbconvert's ``MarkdownExporter``, so headings (with
their ``{ #id }``), table of contents, search, code highlighting, dark mode and
the language switcher work as on every other page.

Why not the mkdocs-jupyter plugin: it works beside mkdocs-static-i18n once a
hook keeps its notebooks as pages, but measured on these tutorials (issue 20)
its pages weigh nine times more (it inlines 0.6 MB of JupyterLab CSS into each),
show ``{ #id }`` as heading text with ids that differ between the languages
(its slugs keep ASCII only, so Chinese headings without one get none), draw
code in its own colours instead of the site's, and never reuse its cache: each
language's build evicts the other's entries.

Rules:

- Both languages' notebooks must have identical code cells; they are executed
  once and the outputs are shown under either language's prose.
- Execution stops the build at the first error (no ``allow_errors``); library
  warnings and log messages are silenced in the kernel, and the checkout's path
  never reaches a page.
- Outputs are kept in the artifact store (``benchmarks.store``, kind
  ``notebooks``), keyed by the code cells, the kernel set-up and the installed
  packages, and checked against the hashes of every ``benchmarks`` file the
  kernel loaded, so an unchanged notebook is not executed again. The page says
  when and how long the execution ran.

This hook must run before ``mkdocs_hooks.py`` (list it first under ``hooks:``):
the results renderer rejects markers it does not know.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import html
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from benchmarks import store
from benchmarks.store import file_digest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "benchmarks"
MARKER = re.compile(r"<!--\s*bench:notebook\s+([\w./-]+)\s*-->")
DEFAULT_LANGUAGE = "en"
# Per cell; it stops a hung notebook, so it is generous for a busy 2-core machine.
CELL_TIMEOUT_S = int(os.environ.get("BENCH_NOTEBOOK_TIMEOUT", "600"))
PLOTLY = "application/vnd.plotly.v1+json"
# Run in the kernel before the first cell: a page shows what the notebook prints, not the
# deprecation notices and load messages of the libraries it imports.
SETUP = """\
import logging as _logging, warnings as _warnings
_warnings.simplefilter("ignore")
_logging.disable(_logging.WARNING)
"""
# Asked of the kernel after the last cell: which pipeline files did the notebook load?
PROBE = """\
import json as _json, sys as _sys
print(_json.dumps(sorted({str(getattr(_m, "__file__", None) or "") for _m in list(_sys.modules.values())})))
"""

TEXT = {
    "en": {
        "output": "Output",
        "stderr": "Messages on stderr",
        "title": "Executed by this build",
        "download": "Download the notebook",
        "run": "and run it from the repository root after `make install`.",
        "fresh": (
            "The outputs below were computed when this build executed the notebook"
            " on {date} ({seconds:.0f} s)."
        ),
        "cached": (
            "The outputs below were computed on {date} ({seconds:.0f} s) and reused by this build:"
            " the notebook's code, the pipeline code it loads and the installed packages are unchanged since."
        ),
    },
    "zh": {
        "output": "输出",
        "stderr": "标准错误输出中的消息",
        "title": "由本次构建执行",
        "download": "下载此笔记本",
        "run": "并在 `make install` 之后于仓库根目录运行。",
        "fresh": "以下输出由本次构建于 {date} 执行此笔记本得到(耗时 {seconds:.0f} 秒)。",
        "cached": (
            "以下输出于 {date} 执行得到(耗时 {seconds:.0f} 秒),本次构建直接复用:"
            "此后笔记本的代码、它加载的流水线代码和已安装的软件包均未改变。"
        ),
    },
}


class NotebookError(PluginError):
    """A notebook is missing, malformed, differs from its twin, or raised while executing."""


@dataclass
class Execution:
    outputs: list[list[dict[str, Any]]]  # per code cell, nbformat output dicts
    executed_at: str
    seconds: float
    cached: bool


# --------------------------------------------------------------------------- notebooks


def read_notebook(path: Path):
    import nbformat

    if not path.is_file():
        raise NotebookError(f"{path}: notebook not found")
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        raise NotebookError(f"{path}: not a valid notebook ({type(exc).__name__}: {exc})") from exc
    return nb


def code_cells(nb) -> list[str]:
    return [cell.source.rstrip() for cell in nb.cells if cell.cell_type == "code"]


def check_same_code(first: Path, second: Path) -> None:
    """Twins in two languages must run the same code; only their prose differs."""
    a, b = code_cells(read_notebook(first)), code_cells(read_notebook(second))
    if len(a) != len(b):
        raise NotebookError(f"{second.name} has {len(b)} code cells, {first.name} has {len(a)}")
    for index, (x, y) in enumerate(zip(a, b, strict=True), start=1):
        if x != y:
            raise NotebookError(f"code cell {index} of {second.name} differs from {first.name}")


# --------------------------------------------------------------------------- execution


class StaleOutputs(Exception):
    """A pipeline file the notebook loaded has changed since its outputs were stored."""


@functools.cache
def _installed() -> list[str]:
    names = (f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"])
    return sorted(names)


def _data_files() -> set[Path]:
    return {p for p in PACKAGE.rglob("data/*") if p.is_file()}


def _dependencies(loaded: list[str]) -> dict[str, str]:
    """Pipeline files the kernel loaded, plus the data files beside them, with their hashes."""
    files = {Path(f).resolve() for f in loaded if f}
    deps = {p for p in files if p.is_file() and PACKAGE in p.parents} | _data_files()
    return {str(p.relative_to(REPO)): file_digest(p) for p in sorted(deps)}


def check_entry(path: Path) -> dict[str, Any]:
    """A stored execution, or an error when it is unreadable or a file it depends on changed."""
    entry = json.loads(path.read_text(encoding="utf-8"))
    for rel, digest in entry["dependencies"].items():
        if not (REPO / rel).is_file() or file_digest(REPO / rel) != digest:
            raise StaleOutputs(rel)
    if not {str(p.relative_to(REPO)) for p in _data_files()} <= set(entry["dependencies"]):
        raise StaleOutputs("a new data file")
    return entry


def execute(path: Path) -> Execution:
    """Outputs of every code cell of ``path``: from the artifact store when still valid, else from a run.

    Concurrent builds take turns (the store locks the entry), so the second one reuses the first one's run.
    """
    nb = read_notebook(path)
    codes = code_cells(nb)
    made: list[bool] = []

    def make(target: Path) -> None:
        entry = _run_kernel(nb, path)
        target.write_text(json.dumps(entry), encoding="utf-8")
        made.append(True)

    inputs = {"code": codes, "setup": SETUP, "python": sys.version, "installed": _installed()}
    stored = store.artifact("notebooks", inputs, make, code=(_run_kernel,), suffix=".json", check=check_entry)
    entry = json.loads(stored.read_text(encoding="utf-8"))
    if len(entry["outputs"]) != len(codes):
        raise NotebookError(f"{stored}: {len(entry['outputs'])} outputs for {len(codes)} code cells")
    leaked = machine_paths(json.dumps(entry["outputs"]))
    if leaked:
        raise NotebookError(
            f"{path}: an output would publish a path of the build machine ({', '.join(leaked)});"
            " print paths relative to the repository or not at all"
        )
    return Execution(entry["outputs"], entry["executed_at"], entry["seconds"], cached=not made)


def machine_paths(text: str) -> list[str]:
    """The build machine's own folders (checkout, home, interpreter, temporary files) that ``text`` names."""
    folders = {str(REPO), str(Path.home()), sys.prefix, sys.base_prefix, tempfile.gettempdir()}
    found = []
    for folder in sorted(f for f in folders if f and f != os.sep):
        if json.dumps(folder.rstrip(os.sep) + os.sep)[1:-1] in text:
            found.append(folder)
    return found


def _run_kernel(nb, path: Path) -> dict[str, Any]:
    """Execute in a fresh kernel of this interpreter, from the repository root; stop at the first error."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbconvert.filters import strip_ansi

    nb = copy.deepcopy(nb)
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as scratch:
        env = {
            **os.environ,
            # fig.show() emits plotly's JSON mimetype, which the page draws with the site's plotly.js.
            "PLOTLY_RENDERER": "plotly_mimetype",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            # Keep IPython's profile and history out of the user's home.
            "IPYTHONDIR": str(Path(scratch) / "ipython"),
            "MPLBACKEND": "Agg",
        }
        # The connection file too; "python" in the native kernel spec means this interpreter.
        km = KernelManager(kernel_name="python3", connection_file=str(Path(scratch) / "kernel.json"))
        client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S, allow_errors=False, record_timing=False)
        try:
            with client.setup_kernel(env=env, cwd=str(REPO)):
                # nbclient writes each executed cell back into the notebook: the set-up
                # and the probe take a place there while they run.
                nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP))
                client.execute_cell(nb.cells[0], 0)
                nb.cells.pop(0)
                start = time.perf_counter()
                executed_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
                seconds = time.perf_counter() - start
                nb.cells.append(nbformat.v4.new_code_cell(PROBE))
                client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
                probe = nb.cells.pop()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            raise NotebookError(f"{path}: execution failed\n{strip_ansi(str(exc)).strip()}") from exc
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    loaded = json.loads("".join(o.get("text", "") for o in probe.outputs if o.get("name") == "stdout"))
    outputs = [[dict(o) for o in cell.outputs] for cell in nb.cells if cell.cell_type == "code"]
    # The checkout's location is the build machine's business, not the reader's.
    text = json.dumps(outputs).replace(json.dumps(str(REPO) + os.sep)[1:-1], "")
    return {
        "notebook": str(path.relative_to(REPO)) if REPO in path.parents else path.name,
        "executed_at": executed_at,
        "seconds": seconds,
        "dependencies": _dependencies(loaded),
        "outputs": json.loads(text),
    }


# --------------------------------------------------------------------------- Markdown

# nbconvert's Markdown template, with the site's blocks: code and stdout as fenced blocks with
# a title, stderr folded away in an admonition, HTML kept as HTML, plotly figures drawn by the
# site's plotly.js. Consecutive writes to one stream were merged and carriage returns applied
# by nbconvert's CoalesceStreamsPreprocessor.
TEMPLATE = """\
{%- extends 'markdown/index.md.j2' -%}
{% block input %}
{{ cell.source | fence('python') }}
{% endblock input %}
{% block stream %}
{%- if output.name == 'stdout' %}
{{ output.text | strip_ansi | fence(' title="' ~ resources.text.output ~ '"') }}
{%- elif output.text.strip() %}
??? note "{{ resources.text.stderr }}"

{{ output.text | strip_ansi | fence('text') | indent_block }}
{%- endif %}
{% endblock stream %}
{% block error %}
{{ raise_error(output) }}
{% endblock error %}
{% block data_html %}
<div class="nb-output" markdown="0">
{{ output.data['text/html'] | trim }}
</div>
{% endblock data_html %}
{% block data_svg %}
<div class="nb-output" markdown="0">
{{ output.data['image/svg+xml'] | trim }}
</div>
{% endblock data_svg %}
{% block data_text %}
{{ output.data['text/plain'] | fence(' title="' ~ resources.text.output ~ '"') }}
{% endblock data_text %}
{% block data_other %}
{%- if 'application/vnd.plotly.v1+json' in output.data %}
{{ output.data['application/vnd.plotly.v1+json'] | plotly }}
{%- endif %}
{% endblock data_other %}
"""


def _fence(text: str, info: str) -> str:
    text = text.rstrip()
    if not text.strip():
        return ""
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{info}\n{text}\n{ticks}"


def _indent_block(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())


class Converter:
    """One notebook page in one language; counts the plotly charts it emits."""

    def __init__(self, stem: str, lang: str) -> None:
        self.stem = stem
        self.lang = lang
        self.charts = 0

    def chart(self, spec: dict[str, Any]) -> str:
        import plotly.io as pio

        fig = pio.from_json(json.dumps(spec))
        self.charts += 1
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"nb-{re.sub(r'[^a-z0-9]+', '-', self.stem.lower())}-{self.charts}",
            config={"displaylogo": False, "responsive": True},
        )
        return f'<div class="bench-chart" markdown="0">\n{div}\n</div>'

    def _raise(self, output: dict[str, Any]) -> str:  # only reachable with a hand-edited store entry
        raise NotebookError(f"{self.stem}: a stored output is an error: {output.get('ename')}")

    def exporter(self):
        from jinja2 import DictLoader
        from nbconvert.exporters import MarkdownExporter
        from traitlets.config import Config

        config = Config()
        config.CoalesceStreamsPreprocessor.enabled = True
        config.ExtractOutputPreprocessor.enabled = False  # images stay in the page, as data URIs
        config.ExtractAttachmentsPreprocessor.enabled = False
        config.MarkdownExporter.exclude_raw = True
        # nbconvert drops a mimetype it does not list; plotly's comes first.
        config.NbConvertBase.display_data_priority = [
            PLOTLY,
            "text/html",
            "image/svg+xml",
            "image/png",
            "image/jpeg",
            "text/markdown",
            "text/plain",
        ]
        exporter = MarkdownExporter(
            config=config,
            extra_loaders=[DictLoader({"page.md.j2": TEMPLATE})],
            template_file="page.md.j2",
            filters={"fence": _fence, "indent_block": _indent_block, "plotly": self.chart},
        )
        exporter.environment.globals["raise_error"] = self._raise
        return exporter

    def convert(self, nb, execution: Execution, download: str, shown: str) -> str:
        """``download`` is the notebook's name in docs/ (i18n maps it to ``shown`` in the site)."""
        import nbformat

        nb = copy.deepcopy(nb)
        outputs = iter(execution.outputs)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [nbformat.from_dict(out) for out in next(outputs)]
        text = TEXT[self.lang]
        when = (text["cached"] if execution.cached else text["fresh"]).format(
            date=execution.executed_at, seconds=execution.seconds
        )
        note = nbformat.v4.new_markdown_cell(
            f'!!! info "{text["title"]}"\n\n'
            f"    {text['download']} [{html.escape(shown)}]({download}) {text['run']}\n"
            f"    {when}"
        )
        # The note goes right under the title, or first when the notebook has none.
        first = nb.cells[0] if nb.cells else None
        titled = first is not None and first.cell_type == "markdown" and first.source.startswith("# ")
        nb.cells.insert(1 if titled else 0, note)
        markdown, _ = self.exporter().from_notebook_node(nb, resources={"text": text})
        return markdown.strip() + "\n"


# --------------------------------------------------------------------------- hooks

# Module state lives as long as one loaded config: both languages of one build
# (i18n builds the others inside the first), and one rebuild of `mkdocs serve`.
_charts: dict[str, int] = {}
_executions: dict[Path, Execution] = {}


def page_language(page: Page) -> str:
    locale = getattr(page.file, "locale", None)
    if locale:
        return str(locale)
    return "zh" if page.file.src_uri.endswith(".zh.md") else DEFAULT_LANGUAGE


def notebook_path(docs_dir: Path, page_dir: str, stem: str, lang: str) -> Path:
    suffix = ".ipynb" if lang == DEFAULT_LANGUAGE else f".{lang}.ipynb"
    return (docs_dir / page_dir / f"{stem}{suffix}").resolve()


def render(docs_dir: Path, src_uri: str, lang: str, stem: str) -> tuple[str, int]:
    page_dir = str(Path(src_uri).parent)
    path = notebook_path(docs_dir, page_dir, stem, lang)
    default = notebook_path(docs_dir, page_dir, stem, DEFAULT_LANGUAGE)
    nb = read_notebook(path)
    if path != default:
        check_same_code(default, path)
    # Twins share one execution: the store's key is their (identical) code.
    if default not in _executions:
        _executions[default] = execute(default)
    converter = Converter(stem, lang)
    return converter.convert(nb, _executions[default], path.name, f"{stem}.ipynb"), converter.charts


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    charts = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal charts
        text, n = render(Path(config.docs_dir), page.file.src_uri, page_language(page), match.group(1))
        charts += n
        return text

    try:
        markdown = MARKER.sub(replace, markdown)
    except NotebookError as exc:
        raise NotebookError(f"{page.file.src_uri}: {exc}") from exc
    _charts[page.file.src_uri] = charts
    return markdown


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    # After every hook's on_page_markdown: the results hook sets this flag from its own charts.
    if _charts.get(page.file.src_uri):
        page.meta["plotly"] = True
    return html_text
