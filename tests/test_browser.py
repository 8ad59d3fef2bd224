"""A real browser (Debian's chromium) opens the built site as a reader would."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(built_site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def test_chart_language_switch_and_chinese_search(server, browser):
    page = browser.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: None if req.url.startswith(server) else outside.append(req.url))

    page.goto(f"{server}/onnxruntime.html")
    # plotly draws an SVG inside the chart element once plotly.js has run
    page.wait_for_selector(".bench-chart .js-plotly-plot svg.main-svg", timeout=15_000)
    assert page.locator(".bench-chart .js-plotly-plot").count() >= 4

    # the language switcher keeps the reader on the same page
    page.locator(".md-header__option .md-select").first.hover()
    page.locator('a.md-select__link[hreflang="zh"]').first.click()
    page.wait_for_url(f"{server}/zh/onnxruntime.html")
    assert page.locator("html").get_attribute("lang") == "zh"
    page.wait_for_selector(".bench-chart .js-plotly-plot svg.main-svg", timeout=15_000)
    assert "相对 PyTorch eager 的加速比" in page.content()

    # Chinese search finds a Chinese word
    page.locator("label.md-search__icon, .md-search__input").first.click()
    box = page.locator("input.md-search__input")
    box.fill("测量")  # Chinese arrives through an input method, without key events...
    box.press("End")  # ...so a key press tells the search that the query changed
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    assert page.locator(".md-search-result__item").count() >= 1
    assert "测量" in page.locator(".md-search-result").inner_text()

    assert not errors, errors
    assert not outside, f"requests left the site: {outside}"
    page.close()


def test_faq_shows_this_builds_figures_in_both_languages(server, browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/faq.html#cache")
    answer = page.locator("#cache + p").inner_text()
    # Figures rendered inline, not markers: the hit rate in every profile; the speedup
    # where the profile's grid has the quoted point (the toy grid does not).
    assert "64-entry LRU cache" in answer and re.search(r"answered\s+[\d.]+ of the requests", answer)
    assert "bench:" not in page.content()

    page.locator(".md-header__option .md-select").first.hover()
    page.locator('a.md-select__link[hreflang="zh"]').first.click()
    page.wait_for_url(f"{server}/zh/faq.html*")
    assert page.locator("html").get_attribute("lang") == "zh"
    answer_zh = page.locator("#cache + p").inner_text()
    assert "LRU 缓存" in answer_zh and re.search(r"命中了\s*[\d.]+", answer_zh)
    # The answers link to the experiments that back them.
    assert page.locator('a[href^="inference.html#caching"]').count() >= 1
    assert not errors, errors
    page.close()
