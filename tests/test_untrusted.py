"""Data from elsewhere is untrusted (issue 19).

A results file, or the archive of an earlier release, may carry markup in any string it holds:
every page shows such strings as text, never as HTML, Markdown links or attributes. A results
location that cannot be written is refused before any experiment runs, with nothing written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, build_site, run_cli

TAG = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
SCRIPT_END = "</script>" + TAG  # a breakout of the <script> that embeds a chart's data
LINK = "[click me](javascript:alert(2))"  # a Markdown link
ATTRS = "{: onclick=alert(3) }"  # attr_list: attributes on the table cell it ends
ARCHIVED = "v0.1.0" + TAG  # a release folder's name is shown too

# Notebooks show no results files: a stub replaces their markers, so this build executes none.
NOTEBOOK_STUB = """
import re

MARKER = re.compile(r"<!--\\s*bench:notebook\\s+([\\w./-]+)\\s*-->")


def on_page_markdown(markdown, page, config, files):
    return MARKER.sub("", markdown)
"""


def _poison(directory: Path) -> None:
    """Markup in the machine card, variant labels, info strings and a skipped run's reason."""
    skipped = None
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        card = data["machine"]
        card["cpu"] = "AMD EPYC " + TAG
        card["arch"] = "x86_64 " + LINK
        card["isa"] = [*card.get("isa", []), TAG]
        card["os"] = "Linux\n" + TAG
        card["python"] = "3.11 | " + TAG
        card["packages"] = {**card.get("packages", {}), "torch": "2.13.0 " + TAG}
        card["commit"] = "6bcbbaef` " + TAG + " `"  # leaves a code span
        card["date"] = "2026-12-06 " + ATTRS
        card["machine_id"] = "m-" + TAG
        for variant in data["config"].get("variants", []):
            variant["label"] = variant["label"] + " " + SCRIPT_END
            variant["label_zh"] = variant.get("label_zh", variant["label"]) + " " + SCRIPT_END
        for record in data.get("variants", {}).values():
            info = record.get("info", {})
            for key in ("precision", "exporter"):
                if key in info:
                    info[key] = f"{info[key]} {TAG} {LINK}"
        if data["status"] == "skipped":
            data["reason"] = data["reason"] + " " + TAG + " " + LINK
            skipped = data
        path.write_text(json.dumps(data), encoding="utf-8")
    assert skipped is not None, "no skipped result to poison"
    # the latest run of an ok experiment was skipped: the page shows its reason beside the figures
    latest = {**skipped, "experiment": "onnxruntime/minilm"}
    (directory / "onnxruntime__minilm.latest.json").write_text(json.dumps(latest), encoding="utf-8")


def _config_without_notebooks(tmp_path: Path) -> Path:
    stub = tmp_path / "notebooks_stub.py"
    stub.write_text(NOTEBOOK_STUB)
    text = (REPO / "mkdocs.yml").read_text()
    text = text.replace("docs_dir: docs", f"docs_dir: {REPO / 'docs'}")
    text = text.replace("custom_dir: overrides", f"custom_dir: {REPO / 'overrides'}")
    text = text.replace("- scripts/notebooks.py", f"- {stub}")
    text = text.replace("- scripts/mkdocs_hooks.py", f"- {REPO / 'scripts/mkdocs_hooks.py'}")
    config = tmp_path / "mkdocs.yml"
    config.write_text(text)
    return config


@pytest.fixture(scope="module")
def poisoned_site(tmp_path_factory: pytest.TempPathFactory, toy_results: Path) -> Path:
    root = tmp_path_factory.mktemp("untrusted")
    results = root / "results"
    shutil.copytree(toy_results, results, ignore=shutil.ignore_patterns(".*"))
    _poison(results)
    archive = root / "archive"
    shutil.copytree(results, archive / ARCHIVED)
    site = root / "site"
    proc = build_site(results, site, _config_without_notebooks(root), env={"BENCH_ARCHIVE_DIR": str(archive)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site


# A tag (or a Markdown-made element) with an event handler that the injected strings carry.
HANDLER = re.compile(r"<[a-zA-Z][^<>]*\son\w+\s*=\s*[\"']?alert", re.IGNORECASE)


def test_markup_from_results_is_shown_as_text(poisoned_site):
    pages = sorted(poisoned_site.rglob("*.html"))
    assert len(pages) > 30
    found = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        where = page.relative_to(poisoned_site)
        if "<img src=x onerror=" in text.lower():
            found.append(f"{where}: raw <img>")
        if HANDLER.search(text):
            found.append(f"{where}: event handler {HANDLER.search(text).group(0)!r}")
        if re.search(r"href=[\"']?javascript:", text, re.IGNORECASE):
            found.append(f"{where}: javascript: link")
        if "</script><img" in text:
            found.append(f"{where}: </script> breakout")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("page", ["releases.html", "zh/releases.html"])
def test_machine_card_and_archive_shown_escaped(poisoned_site, page):
    text = (poisoned_site / page).read_text(encoding="utf-8")
    assert f"AMD EPYC {ESCAPED}" in text  # the machine card: the text is there, as text
    assert "x86_64 [click me](javascript:alert(2))" in _visible(text)
    assert f"2.13.0 {ESCAPED}" in text  # a package version
    assert f"v0.1.0{ESCAPED}" in text  # the archived release's folder


def test_labels_reasons_and_info_shown_escaped(poisoned_site):
    page = (poisoned_site / "onnxruntime.html").read_text(encoding="utf-8")
    visible = _visible(page)
    assert f"PyTorch eager FP32 </script>{TAG}" in visible  # a variant label, in the quality table
    assert f"fp32 {TAG} {LINK}" in visible  # an info string
    assert f"{TAG} {LINK}" in _visible((poisoned_site / "tensorrt.html").read_text())  # skipped reason
    assert "ONNX Runtime at its defaults" in page or "ort-plain" in page
    # normal text renders as before: symbols, Chinese, links
    assert "×" in page and 'href="methodology.html' in page
    assert "本页构建于" in (poisoned_site / "zh/onnxruntime.html").read_text()


def _visible(html_text: str) -> str:
    """The page's text as a reader sees it (tags dropped, entities decoded)."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


# ---- the results location ---------------------------------------------------------------------


def _refused(proc, path: Path) -> None:
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert str(path) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr  # one clear line
    assert proc.stdout.strip() == "", proc.stdout  # nothing ran


def test_results_location_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "results"
    target.write_text("not a folder")
    proc = run_cli("run", "tensorrt/resnet50", "--profile", "toy", env={"BENCH_RESULTS_DIR": str(target)})
    _refused(proc, target)
    assert "not a folder" in proc.stderr
    assert target.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_results_location_under_a_file_is_refused(tmp_path):
    parent = tmp_path / "results"
    parent.write_text("not a folder")
    target = parent / "machine-a"
    proc = run_cli("run", "tensorrt/resnet50", "--profile", "toy", env={"BENCH_RESULTS_DIR": str(target)})
    _refused(proc, target)
    assert parent.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
@pytest.mark.parametrize("missing", [False, True], ids=["folder", "folder-to-create"])
def test_read_only_results_location_is_refused(tmp_path, missing):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "kept.json").write_text("{}")
    target = folder / "new" if missing else folder
    folder.chmod(0o555)
    try:
        proc = run_cli("run", "tensorrt/resnet50", "--profile", "toy", env={"BENCH_RESULTS_DIR": str(target)})
        _refused(proc, target)
        assert "permission" in proc.stderr.lower()
        assert sorted(p.name for p in folder.iterdir()) == ["kept.json"]
    finally:
        folder.chmod(0o755)


def test_check_writable_leaves_nothing_behind(tmp_path):
    from benchmarks import results

    results.check_writable(tmp_path)
    results.check_writable(tmp_path / "a" / "b")  # creatable: fine, and not created yet
    assert list(tmp_path.iterdir()) == []


def test_check_writable_names_the_reason(tmp_path, monkeypatch):
    """What the read-only tests check, also where they are skipped (root writes anywhere)."""
    from benchmarks import results

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(results.tempfile, "mkstemp", refuse)
    monkeypatch.setattr(results.tempfile, "mkdtemp", refuse)
    for target, says in (
        (tmp_path, "cannot be written"),
        (tmp_path / "new", f"cannot be created in {tmp_path}"),
    ):
        with pytest.raises(results.ResultsLocationError, match="Permission denied") as caught:
            results.check_writable(target)
        assert str(target) in str(caught.value) and says in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def _stored(candidate: str = "onnxruntime") -> dict:
    """A small results file as the runner writes it: one point, a baseline and a candidate."""
    from tests import synthetic

    found = synthetic.result(
        "onnxruntime/digits-cnn",
        "digits-cnn",
        {"pytorch-eager": {"quality": {"accuracy": 0.98}}, candidate: {"quality": {"accuracy": 0.98}}},
        [({"batch": 1}, {candidate: 2.0})],
    ).to_dict()
    found["machine"]["packages"] = {"torch": "2.13.0"}
    for entry in found["points"][0]["variants"].values():
        p50 = entry["latency"]["p50"]
        entry["latency"] |= {
            "mean": p50,
            "stdev": 0.0,
            "cv": 0.0,
            "min": p50,
            "p90": p50,
            "p99": p50,
            "max": p50,
        }
        entry["round_medians"] = [p50] * 4
    return found


@pytest.mark.parametrize(
    "where, value, named",
    [
        (
            ("points", 0, "variants", "onnxruntime", "latency", "p50"),
            "fast",
            "latency.p50: expected a number",
        ),
        (("points", 0, "params", "batch"), "1", "params.batch: expected an integer"),
        (("variants", "onnxruntime", "quality", "accuracy"), [0.98], "quality.accuracy: expected a number"),
        (("machine", "packages", "torch"), 2, "machine.packages.torch: expected a version string"),
        (("points", 0, "variants", "onnxruntime", "speedup", "median"), None, "speedup.median"),
    ],
)
def test_a_results_file_with_wrong_types_is_refused_naming_the_field(tmp_path, where, value, named):
    from benchmarks import results

    data = _stored()
    results.ExperimentResult.from_dict(json.loads(json.dumps(data)))  # the untouched file loads
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(results.ResultsError, match=re.escape(named)):
        results.load(path)


def test_csv_downloads_do_not_carry_formulas():
    from benchmarks import results
    from benchmarks.report import results_frame

    found = results.ExperimentResult.from_dict(_stored("=HYPERLINK(1)"))
    frame = results_frame(found)
    assert "'=HYPERLINK(1)" in set(frame["variant"]) and "=HYPERLINK(1)" not in set(frame["variant"])
    assert frame["speedup_median"].dropna().tolist() == [2.0]  # numbers stay numbers
