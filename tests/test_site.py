"""The site builds strictly in both languages, from results only, and fails on bad markers."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, build_site

PAGES = ["index.html", "onnxruntime.html", "releases.html"]


@pytest.mark.parametrize("page", PAGES)
def test_both_languages_built(built_site, page):
    en = (built_site / page).read_text()
    zh = (built_site / "zh" / page).read_text()
    assert '<html lang="en"' in en and '<html lang="zh"' in zh
    assert "本页构建于" in zh and "Page built" in en


def test_pages_render_results_and_load_plotly_from_the_site(built_site):
    page = (built_site / "onnxruntime.html").read_text()
    # Every result the page shows was written (an inline figure may still name a point that the
    # default profile measures and the toy profile does not: it says so in its sentence).
    assert "Plotly.newPlot" in page and "Not measured in this build" not in page
    assert re.search(r'<script src="[./]*assets/javascripts/plotly\.min\.js"', page)
    assert (built_site / "assets/javascripts/plotly.min.js").stat().st_size > 1_000_000
    assert "ONNX Runtime FP32" in page and "PyTorch eager FP32" in page
    # The code shown is the code that runs.
    assert "def export_onnx(" in re.sub(r"<[^>]+>", "", page)
    # Pages without charts do not load the 4 MB bundle.
    assert "plotly.min.js" not in (built_site / "index.html").read_text()


def test_nothing_requested_from_outside(built_site):
    for html in built_site.rglob("*.html"):
        text = html.read_text()
        # Links may point anywhere; what the page loads must come from the site.
        loaded = re.findall(r'\ssrc="(https?://[^"]+)"', text) + re.findall(
            r'<link[^>]*href="(https?://[^"]+)"', text
        )
        for url in loaded:
            assert url.startswith("http://127.0.0.1"), f"{html}: external resource {url}"
        assert "fonts.googleapis" not in text


@pytest.mark.slow  # builds a site
def test_missing_results_show_notice(tmp_path):
    proc = build_site(tmp_path / "empty", tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "site/onnxruntime.html").read_text()
    assert "Not measured in this build" in page
    assert "本次构建未测量" in (tmp_path / "site/zh/onnxruntime.html").read_text()


@pytest.mark.parametrize(
    "marker", ["<!-- bench:table onnxruntime/nope -->", "<!-- bench:bogus onnxruntime/minilm -->"]
)
def test_unknown_marker_fails_the_build(tmp_path, toy_results, marker):
    docs = tmp_path / "docs"
    shutil.copytree(REPO / "docs", docs)
    with (docs / "onnxruntime.md").open("a") as fh:
        fh.write("\n" + marker + "\n")
    config = tmp_path / "mkdocs.yml"
    text = (REPO / "mkdocs.yml").read_text().replace("docs_dir: docs", f"docs_dir: {docs}")
    text = text.replace("custom_dir: overrides", f"custom_dir: {REPO / 'overrides'}")
    for hook in ("scripts/notebooks.py", "scripts/mkdocs_hooks.py"):
        text = text.replace(f"- {hook}", f"- {REPO / hook}")
    text = text.replace("- stylesheets/extra.css", "- stylesheets/extra.css")
    config.write_text(text)
    proc = build_site(toy_results, tmp_path / "site", config)
    assert proc.returncode != 0
    assert "onnxruntime/nope" in proc.stderr or "bench:bogus" in proc.stderr


def test_every_page_has_its_twin():
    proc = subprocess.run(
        [sys.executable, "scripts/check_translations.py"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_twin_check_catches_missing_twin_and_anchor(tmp_path):
    (tmp_path / "a.md").write_text("# A { #a }\n\n<!-- bench:machine -->\n")
    (tmp_path / "a.zh.md").write_text("# 甲 { #other }\n")
    (tmp_path / "b.md").write_text("# B { #b }\n")
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts/check_translations.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "b.md: no Chinese twin" in proc.stderr
    assert "anchors differ" in proc.stderr and "markers differ" in proc.stderr


def test_chinese_search_index_is_segmented(built_site):
    import json

    docs = json.loads((built_site / "search/search_index.json").read_text(encoding="utf-8"))["docs"]
    chinese = [d for d in docs if d["location"].startswith("zh/")]
    assert chinese, "the Chinese pages are missing from the search index"
    assert any("\u200b测量\u200b" in d["text"] for d in chinese)


def test_the_site_serves_the_vendored_plotly_bundle(built_site):
    """plotly.js comes from the site itself: the vendored basic bundle (tests/test_plotly_bundle.py
    ties its version to plotly.py's and checks every chart's trace types)."""
    vendored = REPO / "vendor/plotly/plotly-basic.min.js"
    assert (built_site / "assets/javascripts/plotly.min.js").read_bytes() == vendored.read_bytes()


def test_release_version_and_earlier_releases_shown(tmp_path, toy_results):
    archive = tmp_path / "archive"
    shutil.copytree(toy_results, archive / "v0.1.0")
    # The version comes from the release's tag, which is text: markup in it is shown, not run.
    version = "v0.2.0<img src=x onerror=alert(1)>"
    proc = build_site(
        toy_results, tmp_path / "site", env={"BENCH_ARCHIVE_DIR": str(archive), "SITE_VERSION": version}
    )
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "site/releases.html").read_text()
    assert "v0.1.0" in page and "this build" in page
    shown = "v0.2.0&lt;img src=x onerror=alert(1)&gt;"
    assert f"Release <strong>{shown}</strong>" in page and "<img src=x" not in page
    zh = (tmp_path / "site/zh/releases.html").read_text()
    assert "本次构建" in zh and f"版本 <strong>{shown}</strong>" in zh and "<img src=x" not in zh


def test_without_archive_the_page_says_so(built_site):
    page = (built_site / "releases.html").read_text()
    assert "No earlier release archived here" in page and "this build" in page


def test_internal_links_and_anchors_resolve(built_site):
    """Every link between pages (and to downloads) points at a file, and at an anchor that exists."""
    ids: dict[Path, set[str]] = {}

    def anchors(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = set(re.findall(r'\sid="([^"]+)"', path.read_text()))
        return ids[path]

    broken = []
    for page in built_site.rglob("*.html"):
        for href in re.findall(r'<a[^>]*\shref="([^"]+)"', page.read_text()):
            if re.match(r"^[a-z]+:", href) or href.startswith("//"):
                continue
            target, _, fragment = href.partition("#")
            if target.startswith("/"):  # 404.html links from the site root: it is served at any path
                path = built_site / target.lstrip("/")
            else:
                path = (page.parent / target).resolve() if target else page
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                broken.append(f"{page.relative_to(built_site)} -> {href}")
            elif fragment and path.suffix == ".html" and fragment not in anchors(path):
                broken.append(f"{page.relative_to(built_site)} -> {href} (no such anchor)")
    assert not broken, "\n".join(broken[:20])


def test_results_offered_for_download(built_site, toy_results):
    page = (built_site / "onnxruntime.html").read_text()
    assert 'href="results/onnxruntime__minilm.csv"' in page
    zh = (built_site / "zh" / "onnxruntime.html").read_text()
    assert 'href="../results/onnxruntime__minilm.json"' in zh
    csv = (built_site / "results" / "onnxruntime__minilm.csv").read_text().splitlines()
    assert csv[0].startswith("machine,experiment,param_batch,param_seq_len,variant,latency_p50_ms")
    assert len(csv) > 2


@pytest.mark.parametrize("page", ["principles.html", "zh/principles.html"])
def test_roofline_chart_is_rendered_from_the_measured_peaks(built_site, page):
    text = (built_site / page).read_text()
    assert 'id="chart-roofline-' in text and "GFLOP/s" in text and "GB/s" in text


TIMING_METRICS = {"speedup", "p50", "p90", "p99", "throughput"}


def test_every_timed_figure_names_a_point_that_the_default_and_full_grids_measure():
    """A page's inline figure must exist in the builds users see: `make site` (default)
    and the release (full). The release site once said "not measured" in the FAQ."""
    from benchmarks.experiments import PROFILES, all_experiments

    experiments = all_experiments()
    marker = re.compile(r"<!-- bench:figure (\S+) -->")
    problems = []
    for page in sorted((REPO / "docs").rglob("*.md")):
        for spec in marker.findall(page.read_text(encoding="utf-8")):
            target, _, where = spec.partition(";")[0].partition("@")  # options after ";"
            name, _variant, metric = target.split(":")
            if metric not in TIMING_METRICS:
                continue
            params = {k: int(v) for k, v in (kv.split("=") for kv in where.split(",") if kv)}
            for profile in ("default", "full"):
                grid = experiments[name].points(PROFILES[profile])
                if (params and params not in grid) or (not params and len(grid) != 1):
                    problems.append(f"{page.name}: {spec} is not in the {profile} grid {list(grid)}")
    assert not problems, "\n".join(problems)
