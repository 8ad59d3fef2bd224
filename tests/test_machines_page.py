"""The machine as a dimension of the site: the Machines page, the charts across machines and the
CSV downloads, from synthetic results (fast tier) and, in a real browser, from bundles made by this
build's pipelines (one of them a real toy run capped to AVX2 and one thread)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import markdown
import pytest

from benchmarks import claims, machines, results
from benchmarks.bundle import import_bundle, write_bundle
from benchmarks.claims import Finding, Verdict
from benchmarks.report import machines as machines_page
from benchmarks.report.downloads import machines_frame
from benchmarks.report.page import Renderer
from benchmarks.results import ExperimentResult
from tests.synthetic import COSINE_OK, synthetic

REFERENCE_POINT = {"batch": 1, "seq_len": 128}
HOSTILE_CPU = "<img src=x onerror=alert(1)>"
DATE = "2026-12-01T10:00:00+00:00"


def card(cpu: str, isa: list[str], packages: dict[str, str] | None = None) -> dict:
    """A machine card that a bundle's manifest accepts (its id derived from it)."""
    found = {
        "cpu": cpu,
        "arch": "x86_64",
        "isa": isa,
        "logical_cores": 4,
        "usable_physical_cores": 2,
        "memory_gib": 16.0,
        "packages": packages or {"torch": "2.13.0"},
        "commit": "abc123",
        "date": DATE,
    }
    return {**found, "machine_id": machines.card_id(found)}


def on(result: ExperimentResult, machine: dict) -> ExperimentResult:
    return dataclasses.replace(result, machine=machine, started=machine["date"])


def quantization(speed: float, label: str = "INT8") -> ExperimentResult:
    result = synthetic("quantization/minilm", "minilm", REFERENCE_POINT, {"int8": (speed, COSINE_OK)})
    variants = [dict(v) for v in result.config["variants"]]
    variants[1].update(label=label, label_zh=label)
    return dataclasses.replace(result, config={**result.config, "variants": variants})


REFERENCE_CARD = card("Reference CPU", ["AVX2", "FMA"])


def reference_dir(tmp_path: Path, speed: float = 1.5) -> Path:
    directory = tmp_path / "results"
    results.save(on(quantization(speed), REFERENCE_CARD), directory)
    return directory


def add_machine(
    directory: Path, found: list[ExperimentResult], machine: dict, note: str | None, tmp_path: Path
) -> machines.Machine:
    """Bundle ``found`` as ``machine``'s results and import the bundle into ``directory``."""
    source = tmp_path / f"source-{machine['machine_id']}"
    for result in found:
        results.save(on(result, machine), source)
    archive = write_bundle(tmp_path, directory=source, note=note)
    return import_bundle(archive, directory=directory)


def judge_q1(found: dict[str, ExperimentResult]) -> Finding:
    speed = claims.speedup(found["quantization/minilm"], "int8", **REFERENCE_POINT)
    outcome = "holds" if speed > 1.2 else "does-not-hold"
    return Finding(outcome, f"{speed:.2f}×", f"{speed:.2f} 倍")


def judge_t1(found: dict[str, ExperimentResult]) -> Finding:
    return Finding("partly", "always partly", "总是部分成立")


FAKE_VERDICTS = {
    "Q1": Verdict("Q1", ("quantization/minilm",), "INT8 > 1.2×", "INT8 > 1.2 倍", judge_q1),
    "T1": Verdict("T1", ("quantization/minilm",), "always partly", "总是部分成立", judge_t1),
    "C6": Verdict("C6", ("onnxruntime/minilm",), "not measured here", "这里未测量", judge_t1),
}


def render(directory: Path, text: str, lang: str) -> tuple[str, Renderer]:
    page = Renderer(directory, directory.parent / "no-archive")
    out, _ = page.render(text, lang)
    return out, page


def traces(html: str) -> list[dict]:
    """The traces of the first plotly chart in ``html``."""
    match = re.search(r'Plotly\.newPlot\(\s*"[^"]*"\s*,\s*', html)
    assert match, html
    data, _ = json.JSONDecoder().raw_decode(html, match.end())
    return data


# ---- one machine: the page says so, every other page is as before --------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_with_one_machine_the_page_says_how_to_add_one_and_technique_pages_are_unchanged(tmp_path, lang):
    directory = reference_dir(tmp_path)
    out, _ = render(directory, "<!-- bench:machines -->", lang)
    assert machines_page.TEXT[lang]["one_machine"] in out
    assert "python -m benchmarks bundle" in out and "python -m benchmarks import FILE" in out
    assert "Reference CPU" in out

    verdicts, _ = render(directory, "<!-- bench:machine-verdicts -->", lang)
    assert machines_page.TEXT[lang]["one_machine_verdicts"] in verdicts

    before = "Text.\n\n<!-- bench:speedup quantization/minilm -->\n\nMore text.\n"
    after = before.replace("\n\nMore", "\n\n<!-- bench:across-machines quantization/minilm -->\n\nMore")
    plain, plain_page = render(directory, before, lang)
    with_marker, marker_page = render(directory, after, lang)
    assert markdown.markdown(with_marker) == markdown.markdown(plain)
    assert marker_page.charts == plain_page.charts == 1
    assert marker_page.used == plain_page.used


def test_an_unknown_experiment_fails_the_build(tmp_path):
    directory = reference_dir(tmp_path)
    with pytest.raises(machines_page.MarkerError, match="unknown experiment"):
        render(directory, "<!-- bench:across-machines quantization/no-such -->", "en")


# ---- two machines ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_verdicts_that_read_differently_are_found(tmp_path, monkeypatch, lang):
    monkeypatch.setattr(claims, "all_verdicts", lambda: dict(FAKE_VERDICTS))
    directory = reference_dir(tmp_path, speed=1.5)
    other = card("Other CPU", ["AVX2"])
    add_machine(directory, [quantization(0.9)], other, None, tmp_path)

    found = machines_page.machines(Renderer(directory))
    assert [m.machine.reference for m in found] == [True, False]
    reference, mine = (machines_page.findings(m.results) for m in found)
    assert reference["Q1"].outcome == "holds" and mine["Q1"].outcome == "does-not-hold"
    assert reference["C6"] is None and mine["C6"] is None  # not measured: not judged, not "different"
    assert machines_page.differing_verdicts(reference, mine) == ["Q1"]
    assert machines_page.differing_verdicts(reference, reference) == []

    out, _ = render(directory, "<!-- bench:machine-verdicts -->", lang)
    assert "[Q1](quantization.md#claim-q1)" in out
    assert "T1" not in out  # the same verdict on both machines
    words = {o: machines_page.t(lang, o) for o in ("holds", "does-not-hold")}
    row = next(line for line in out.splitlines() if line.startswith("| [Q1]"))
    assert words["holds"] in row and f"**{words['does-not-hold']}**" in row
    assert machines_page.TEXT[lang]["differ_lead"].format(n=1, total=3) in out


def test_the_same_verdicts_on_both_machines_say_so(tmp_path, monkeypatch):
    monkeypatch.setattr(claims, "all_verdicts", lambda: dict(FAKE_VERDICTS))
    directory = reference_dir(tmp_path, speed=1.5)
    add_machine(directory, [quantization(1.6)], card("Other CPU", ["AVX2"]), None, tmp_path)
    out, _ = render(directory, "<!-- bench:machine-verdicts -->", "en")
    counts = "Reference CPU · 2026-12-01 (this build's machine, the reference): 2; Other CPU · 2026-12-01: 2"
    assert out.strip() == machines_page.TEXT["en"]["no_differ"].format(judged=counts)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_headline_recipe_and_card_of_each_machine(tmp_path, lang):
    directory = reference_dir(tmp_path, speed=1.5)
    other = card("Other CPU", ["AVX2"], {"torch": "2.12.0"})
    add_machine(directory, [quantization(1.2)], other, "a second machine", tmp_path)

    cards, page = render(directory, "<!-- bench:machines -->", lang)
    assert machines_page.TEXT[lang]["one_machine"] not in cards
    assert page.machine_shown  # the page shows the cards: no folded card appended
    assert "Reference CPU" in cards and "Other CPU · 2026-12-01 · a second machine" in cards
    assert "torch 2.12.0" in cards and "a second machine" in cards

    out, _ = render(directory, "<!-- bench:machine-headlines -->", lang)
    rows = [line for line in out.splitlines() if "MiniLM" in line]
    assert len(rows) == 2, out
    assert "Reference CPU" in rows[0] and "**1.50×**" in rows[0]
    assert "Other CPU" in rows[1] and "**1.20×**" in rows[1]
    assert all(machines_page.TEXT[lang]["not_measured"] in row for row in rows)  # no recipes run


def test_across_machines_chart_has_one_series_per_machine(tmp_path):
    directory = reference_dir(tmp_path, speed=1.5)
    other = card("Other CPU", ["AVX2"])
    add_machine(directory, [quantization(0.9)], other, "capped", tmp_path)
    out, page = render(directory, "<!-- bench:across-machines quantization/minilm -->", "en")
    assert page.charts == 1 and "quantization/minilm" in page.used
    found = traces(out)
    assert [t["name"] for t in found] == [
        "Reference CPU · 2026-12-01 (this build's machine, the reference)",
        "Other CPU · 2026-12-01 · capped",
    ]
    assert [t["y"] for t in found] == [[1.5], [0.9]]
    assert all(t["x"] == ["int8"] and t["hovertext"] == ["INT8"] for t in found)


def test_a_machine_without_the_experiment_is_named_below_the_chart(tmp_path):
    directory = reference_dir(tmp_path)
    onnx = synthetic("onnxruntime/minilm", "minilm", REFERENCE_POINT, {"ort": (2.0, COSINE_OK)})
    add_machine(directory, [onnx], card("Other CPU", ["AVX2"]), None, tmp_path)
    out, _ = render(directory, "<!-- bench:across-machines quantization/minilm -->", "en")
    assert len(traces(out)) == 1
    assert machines_page.TEXT["en"]["across_missing"].format(machines="Other CPU · 2026-12-01") in out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_strings_from_another_machine_are_escaped(tmp_path, lang):
    directory = reference_dir(tmp_path)
    hostile = card(HOSTILE_CPU, ["<b>AVX</b>"], {"torch": "<script>alert(2)</script>"})
    add_machine(
        directory, [quantization(1.1, label="<img src=y onerror=alert(3)>")], hostile, "<i>note</i>", tmp_path
    )
    page_text = "\n\n".join(
        f"<!-- bench:{kind} -->" for kind in ("machines", "machine-headlines", "machine-verdicts")
    )
    page_text += "\n\n<!-- bench:across-machines quantization/minilm -->\n"
    out, _ = render(directory, page_text, lang)
    html = markdown.markdown(out, extensions=["tables", "md_in_html"])
    for raw in ("<img", "<script>alert", "<b>AVX", "<i>note"):
        assert raw not in out and raw not in html, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in out
    assert "&lt;img src=y onerror=alert(3)&gt;" in out  # the variant label, in the chart


def full_latency(result: ExperimentResult) -> ExperimentResult:
    """The result with every latency statistic a CSV row holds."""
    for point in result.points:
        for entry in point["variants"].values():
            entry["latency"].update(mean=entry["latency"]["p50"], stdev=0.1)
    return result


def test_csv_downloads_carry_the_machine(tmp_path):
    directory = tmp_path / "results"
    results.save(on(full_latency(quantization(1.5)), REFERENCE_CARD), directory)
    other = card("Other CPU", ["AVX2"])
    add_machine(directory, [full_latency(quantization(0.9))], other, None, tmp_path)
    stored, _ = results.load_experiment("quantization/minilm", directory)
    assert stored is not None
    frame = machines_frame(stored, directory)
    assert frame.columns[0] == "machine"
    assert frame.groupby("machine")["speedup_median"].max().to_dict() == {
        REFERENCE_CARD["machine_id"]: 1.5,
        other["machine_id"]: 0.9,
    }
    alone = machines_frame(stored, tmp_path / "elsewhere")
    assert set(alone["machine"]) == {REFERENCE_CARD["machine_id"]}


# ---- in a real browser: bundles made by this build's pipelines ------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


# The instruction-set cap of the isa technique, applied to a whole run: PyTorch's kernels (ATen,
# oneDNN, MKL) at AVX2; ONNX Runtime has no such switch and runs uncapped.
CAPPED_RUN = ("onnxruntime/digits-cnn", "quantization/digits-cnn")


def capped_run(destination: Path) -> None:
    """A real toy run capped to AVX2 and pinned to one CPU (one thread per worker)."""
    from benchmarks.techniques.isa import ISA_CAPS

    cpu = min(os.sched_getaffinity(0))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--profile", "toy", *CAPPED_RUN],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, **ISA_CAPS["avx2"], "BENCH_RESULTS_DIR": str(destination)},
        capture_output=True,
        text=True,
        timeout=1800,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def relabel(source: Path, destination: Path, cpu: str, names: tuple[str, ...] | None = None) -> None:
    """Copy results with the machine card's CPU name replaced (and the id that follows from it)."""
    destination.mkdir(parents=True)
    for path in machines.result_files(source):
        data = json.loads(path.read_text(encoding="utf-8"))
        if names is not None and data["experiment"] not in names:
            continue
        data["machine"]["cpu"] = cpu
        data["machine"]["machine_id"] = machines.card_id(data["machine"])
        (destination / path.name).write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(scope="module")
def machines_site(tmp_path_factory, toy_results: Path) -> tuple[Path, dict[str, str]]:
    """A site whose reference is the toy run, with two imported bundles: the toy run's results
    under a card whose CPU name is markup (an escaping test), and a real capped run."""
    from tests.conftest import build_site, run_cli

    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("the AVX2 cap applies to x86-64 CPUs only")
    root = tmp_path_factory.mktemp("machines")
    reference = root / "results"
    reference.mkdir()
    for path in machines.result_files(toy_results):
        shutil.copy(path, reference / path.name)
    own = machines.reference(reference)
    assert own is not None

    hostile = root / "hostile"
    relabel(toy_results, hostile, HOSTILE_CPU)
    note = "this build's toy results under a card whose CPU name is markup: an escaping test"
    bundles = [write_bundle(root, directory=hostile, note=note)]

    capped = root / "capped-run"
    capped_run(capped)
    honest = root / "capped"
    cap_cpu = f"{own.card['cpu']} [capped: PyTorch kernels at AVX2, one thread]"
    relabel(capped, honest, cap_cpu)
    cap_note = "capped: PyTorch kernels (ATen, oneDNN, MKL) at AVX2, ONNX Runtime uncapped; one thread"
    bundles.append(write_bundle(root, directory=honest, note=cap_note))

    for bundle in bundles:
        proc = run_cli("import", str(bundle), env={"BENCH_RESULTS_DIR": str(reference)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
    found = machines.list_machines(reference)
    assert len(found) == 3 and len({m.id for m in found}) == 3

    site = root / "site"
    proc = build_site(reference, site)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    assert found[0].reference
    hostile_machine = next(m for m in found if m.card["cpu"] == HOSTILE_CPU)
    capped_machine = next(m for m in found if m.card["cpu"] == cap_cpu)
    labels = {"reference": found[0].label, "hostile": hostile_machine.label, "capped": capped_machine.label}
    return site, labels


@pytest.mark.browser
@pytest.mark.parametrize("prefix", ["", "zh/"])
def test_machines_page_and_a_chart_across_machines_in_a_browser(machines_site, prefix):
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, FLAGS

    site, labels = machines_site
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test`, which installs Debian's chromium")
    with serve(site) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        dialogs: list[str] = []
        errors: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        page.goto(f"{server}/{prefix}machines.html")
        article = page.locator("article")
        text = article.inner_text()
        for label in labels.values():
            assert label.split(" · ")[0] in text, label
        assert HOSTILE_CPU in text  # shown as text...
        assert article.locator("img[src='x']").count() == 0  # ...never as an element
        assert page.locator("#headlines ~ .bench-table table tr").count() >= 2 * 3

        lang = "zh" if prefix else "en"
        page.goto(f"{server}/{prefix}onnxruntime.html")
        chart = f"chart-machines-onnxruntime-digits-cnn-{lang}"
        page.wait_for_selector(f"#{chart} svg.main-svg", timeout=15_000)
        assert page.evaluate(f"document.getElementById('{chart}').data.length") == 3
        legend = page.locator(f"#{chart} .legend .traces")
        assert legend.count() == 3
        shown = [legend.nth(i).text_content() or "" for i in range(3)]
        assert any("capped" in n for n in shown) and any(HOSTILE_CPU in n for n in shown), shown
        assert not dialogs, dialogs
        assert not errors, errors
        browser.close()

    frame = (site / "results" / "onnxruntime__digits-cnn.csv").read_text(encoding="utf-8")
    assert len({line.split(",")[0] for line in frame.splitlines()[1:]}) == 3
