"""MkDocs hook: executed Jupyter notebooks as tutorial pages, in both languages.

A page ``tutorials/x.md`` (and its twin ``x.zh.md``) holds the marker
``<!-- bench:notebook x -->``; this hook replaces it with the notebook
``x.ipynb`` (or ``x.zh.ipynb`` on the Chinese page), executed by this build and
converted to Markdown, so headings, table of contents, search, code highlighting
and the language switcher work as on every other page.

mkdocs-jupyter is not used as a plugin: with mkdocs-static-i18n it emits raw
notebook JSON (mkdocs-static-i18n issue 198), and its HTML brings its own CSS
and a MathJax CDN script. Here a notebook becomes plain Markdown instead:
Markdown cells as written, code cells as fenced Python, outputs as text blocks,
Markdown (tables), HTML, images, and plotly figures drawn with the site's own
plotly.js.

Rules:

- Both languages' notebooks must have identical code cells; they are executed
  once and the outputs are shown under either language's prose.
- Execution stops the build at the first error (no ``allow_errors``).
- Outputs are cached under ``<cache>/notebooks/``, keyed by the code cells,
  the Python and package versions, and validated against the hashes of every
  ``benchmarks`` source file the kernel loaded, so unchanged notebooks are not
  executed again. The page says when and how long the execution ran.

This hook must run before ``mkdocs_hooks.py`` (list it first under ``hooks:``):
the results renderer rejects markers it does not know.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import html
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "benchmarks"
MARKER = re.compile(r"<!--\s*bench:notebook\s+([\w./-]+)\s*-->")
DEFAULT_LANGUAGE = "en"
# Per cell; it stops a hung notebook, so it is generous for a busy 2-core machine.
CELL_TIMEOUT_S = int(os.environ.get("BENCH_NOTEBOOK_TIMEOUT", "600"))
CACHE_FORMAT = 1
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
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


# --------------------------------------------------------------------------- cache


def cache_root() -> Path:
    from benchmarks.workloads import cache_dir

    return cache_dir() / "notebooks"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def _environment() -> dict[str, Any]:
    packages = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in metadata.distributions()
        if dist.metadata["Name"]
    )
    return {"python": sys.version, "executable": sys.executable, "packages": packages}


def cache_key(codes: list[str]) -> str:
    key = json.dumps({"format": CACHE_FORMAT, "code": codes, "environment": _environment()}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def _dependencies(loaded: list[str]) -> dict[str, str]:
    """Pipeline files the kernel loaded, plus the data files beside them, with their hashes."""
    files = {Path(f).resolve() for f in loaded if f}
    deps = {p for p in files if p.is_file() and PACKAGE in p.parents}
    deps |= {p for p in PACKAGE.rglob("data/*") if p.is_file()}
    return {str(p.relative_to(REPO)): _sha(p) for p in sorted(deps)}


def _still_valid(entry: dict[str, Any]) -> bool:
    for rel, digest in entry["dependencies"].items():
        path = REPO / rel
        if not path.is_file() or _sha(path) != digest:
            return False
    current = {str(p.relative_to(REPO)) for p in PACKAGE.rglob("data/*") if p.is_file()}
    return current <= set(entry["dependencies"])


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the cache from other users of the checkout
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- execution


def execute(path: Path, cache: Path | None = None) -> Execution:
    """Outputs of every code cell of ``path``: from the cache when still valid, else from a run.

    Concurrent builds take turns per notebook, so the second one reuses the first one's run.
    """
    nb = read_notebook(path)
    codes = code_cells(nb)
    cache = cache or cache_root()
    cache.mkdir(parents=True, exist_ok=True)
    stem = path.name.split(".")[0]
    entry_path = cache / f"{stem}-{cache_key(codes)}.json"
    with _locked(cache / f"{stem}.lock"):
        cached = _cached(entry_path, len(codes))
        if cached is not None:
            return cached
        run = _run_kernel(nb, path)
        entry = {
            "format": CACHE_FORMAT,
            "notebook": str(path),
            "executed_at": run.executed_at,
            "seconds": run.seconds,
            "dependencies": run.dependencies,
            "outputs": run.outputs,
        }
        _write_atomic(entry_path, entry)
        for old in cache.glob(f"{stem}-*.json"):  # older code's entries are never read again
            if old != entry_path:
                old.unlink(missing_ok=True)
    return Execution(run.outputs, run.executed_at, run.seconds, cached=False)


def _cached(entry_path: Path, n_cells: int) -> Execution | None:
    if not entry_path.is_file():
        return None
    try:
        entry = json.loads(entry_path.read_text(encoding="utf-8"))
        if _still_valid(entry) and len(entry["outputs"]) == n_cells:
            return Execution(entry["outputs"], entry["executed_at"], entry["seconds"], cached=True)
    except (OSError, ValueError, KeyError):
        pass  # unreadable or foreign: execute again
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class _Run:
    outputs: list[list[dict[str, Any]]]
    executed_at: str
    seconds: float
    dependencies: dict[str, str]


def _run_kernel(nb, path: Path) -> _Run:
    """Execute in a fresh kernel of this interpreter, from the repository root; stop at the first error."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

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
        client = NotebookClient(
            nb,
            km=km,
            timeout=CELL_TIMEOUT_S,
            allow_errors=False,
            record_timing=False,
            resources={"metadata": {"path": str(REPO)}},
        )
        start = time.perf_counter()
        executed_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        try:
            with client.setup_kernel(env=env, cwd=str(REPO)):
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
                seconds = time.perf_counter() - start
                probe = nbformat.v4.new_code_cell(PROBE)
                nb.cells.append(probe)
                try:
                    client.execute_cell(probe, len(nb.cells) - 1)
                finally:
                    nb.cells.pop()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            message = ANSI.sub("", str(exc)).strip()
            raise NotebookError(f"{path}: execution failed\n{message}") from exc
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    loaded = json.loads("".join(o.get("text", "") for o in probe.outputs if o.get("name") == "stdout"))
    outputs = [[dict(o) for o in cell.outputs] for cell in nb.cells if cell.cell_type == "code"]
    return _Run(json.loads(json.dumps(outputs)), executed_at, seconds, _dependencies(loaded))


# --------------------------------------------------------------------------- Markdown


def _fence(text: str, info: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{info}\n{text.rstrip()}\n{ticks}"


def _terminal(text: str) -> str:
    """What a terminal would show: colours dropped, each line after its last carriage return."""
    lines = ANSI.sub("", text).split("\n")
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines)


def _joined(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


class Converter:
    """One notebook with its outputs as Markdown; counts the plotly charts it emits."""

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

    def stream(self, name: str, text: str) -> str:
        """stdout as an output block; stderr (warnings, progress bars) folded away but kept."""
        text = _terminal(text)
        if not text.strip():
            return ""
        if name == "stdout":
            return _fence(text, f' title="{TEXT[self.lang]["output"]}"')
        body = _fence(text, "text")
        indented = "\n".join(f"    {line}" if line else "" for line in body.splitlines())
        return f'??? note "{TEXT[self.lang]["stderr"]}"\n\n{indented}'

    def outputs(self, outs: list[dict[str, Any]]) -> list[str]:
        blocks: list[str] = []
        pending: tuple[str, str] | None = None  # consecutive writes to one stream form one block
        for out in outs:
            if out["output_type"] == "stream":
                text = _joined(out["text"])
                if pending and pending[0] == out["name"]:
                    pending = (pending[0], pending[1] + text)
                    continue
                if pending:
                    blocks.append(self.stream(*pending))
                pending = (out["name"], text)
                continue
            if pending:
                blocks.append(self.stream(*pending))
                pending = None
            blocks.append(self.output(out))
        if pending:
            blocks.append(self.stream(*pending))
        return [b for b in blocks if b]

    def output(self, out: dict[str, Any]) -> str:
        if out["output_type"] == "error":  # only reachable with a hand-edited cache entry
            raise NotebookError(f"{self.stem}: a cached output is an error: {out.get('ename')}")
        data = out.get("data", {})
        if "application/vnd.plotly.v1+json" in data:
            return self.chart(data["application/vnd.plotly.v1+json"])
        if "text/markdown" in data:
            return _joined(data["text/markdown"]).strip()
        if "text/html" in data:
            return f'<div class="nb-output" markdown="0">\n{_joined(data["text/html"]).strip()}\n</div>'
        if "image/svg+xml" in data:
            return f'<div class="nb-output" markdown="0">\n{_joined(data["image/svg+xml"])}\n</div>'
        for mime in ("image/png", "image/jpeg"):
            if mime in data:
                b64 = "".join(_joined(data[mime]).split())
                base64.b64decode(b64, validate=True)
                return f'<p class="nb-output"><img alt="" src="data:{mime};base64,{b64}"></p>'
        if "text/plain" in data:
            return _fence(_joined(data["text/plain"]), f' title="{TEXT[self.lang]["output"]}"')
        return ""

    def convert(self, nb, execution: Execution, download: str, shown: str) -> str:
        """``download`` is the notebook's name in docs/ (i18n maps it to ``shown`` in the site)."""
        blocks: list[str] = []
        outputs = iter(execution.outputs)
        note_placed = False
        text = TEXT[self.lang]
        when = (text["cached"] if execution.cached else text["fresh"]).format(
            date=execution.executed_at, seconds=execution.seconds
        )
        note = (
            f'!!! info "{text["title"]}"\n\n'
            f"    {text['download']} [{html.escape(shown)}]({download}) {text['run']}\n"
            f"    {when}"
        )
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                blocks.append(cell.source.strip())
                # The note goes right under the title, or first when the notebook has none.
                if not note_placed:
                    if not cell.source.lstrip().startswith("# "):
                        blocks.insert(0, note)
                    else:
                        blocks.append(note)
                    note_placed = True
            elif cell.cell_type == "code":
                blocks.append(_fence(cell.source, "python"))
                blocks.extend(self.outputs(next(outputs)))
        if not note_placed:
            blocks.insert(0, note)
        return "\n\n".join(blocks) + "\n"


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
    # Twins share one execution: the cache key is their (identical) code.
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
