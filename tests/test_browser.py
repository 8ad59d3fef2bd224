"""A real browser (Debian's chromium) opens the built site as a reader would."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, FLAGS

pytestmark = pytest.mark.browser


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
    assert "64-entry LRU cache" in answer and re.search(r"answered\s+[\d.]+%? of the requests", answer)
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


# --- Looks right on every screen: CJK glyphs, phone width, page weight -------------------------

PHONE = {"width": 390, "height": 844}
# The home page, a technique page, the FAQ and a tutorial, in both languages.
PHONE_PAGES = [
    f"{prefix}{page}"
    for prefix in ("", "zh/")
    for page in ("index.html", "onnxruntime.html", "faq.html", "tutorials/quantize-minilm.html")
]
# Every character of the page's Chinese text, drawn with the page's own font stack, against a code
# point no font has (U+0378 is unassigned): a missing glyph draws the same box as that one.
FIND_MISSING_GLYPHS = """(selector) => {
  const text = Array.from(document.querySelectorAll(selector)).map(e => e.innerText).join('');
  const cjk = /[\\u3000-\\u303f\\u4e00-\\u9fff\\uff01-\\uff5e]/g;
  const chars = Array.from(new Set(Array.from(text.matchAll(cjk), m => m[0])));
  const family = getComputedStyle(document.querySelector('.md-typeset')).fontFamily;
  const canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 48;
  const ctx = canvas.getContext('2d');
  const draw = (s) => {
    ctx.clearRect(0, 0, 48, 48);
    ctx.font = `32px ${family}`; ctx.textBaseline = 'top'; ctx.fillStyle = '#000';
    ctx.fillText(s, 4, 4);
    return canvas.toDataURL();
  };
  const box = draw('\\u0378');
  return {
    chars: chars.length,
    missing: chars.filter(c => draw(c) === box),
    boxes_alike: draw('\\u0379') === box,   // the check sees a box as a box...
    latin_differs: draw('A') !== box,        // ...and a real glyph as different
    family,
  };
}"""
# Elements wider than the phone, outside the containers that scroll sideways on their own. The
# phone's width, not window.innerWidth: a mobile browser widens the layout to fit what overflows.
FIND_OVERFLOW = """(width) => {
  const scrolls = (e) => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const out = [];
  for (const e of document.querySelectorAll('.md-container *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    let a = e.parentElement, inside = false;
    while (a && a !== document.body) { if (scrolls(a)) { inside = true; break; } a = a.parentElement; }
    if (!inside) out.push(`${e.tagName.toLowerCase()}.${e.className} right=${Math.round(r.right)}`);
  }
  const inner = window.innerWidth;
  return {scroll: document.documentElement.scrollWidth, inner, width, overflow: out.slice(0, 10)};
}"""


def test_chinese_text_has_a_glyph_for_every_character(server, browser):
    import subprocess

    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no CJK font: run `make browser` (installs fonts-noto-cjk)"
    for url in ("zh/index.html", "zh/onnxruntime.html", "zh/faq.html"):
        page = browser.new_page()
        page.goto(f"{server}/{url}")
        found = page.evaluate(FIND_MISSING_GLYPHS, ".md-content, .md-nav, .md-header")
        assert found["boxes_alike"] and found["latin_differs"], found
        assert found["chars"] > 50, found
        assert not found["missing"], f"{url}: drawn as boxes with {found['family']}: {found['missing']}"
        page.close()


@pytest.mark.parametrize("path", PHONE_PAGES)
def test_phone_width_needs_no_sideways_scrolling(server, browser, path):
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/{path}")
    page.wait_for_load_state("load")
    if page.locator(".bench-chart, .js-plotly-plot").count():
        page.wait_for_selector(".js-plotly-plot svg.main-svg", timeout=15_000)
    found = page.evaluate(FIND_OVERFLOW, PHONE["width"])
    assert max(found["scroll"], found["inner"]) <= PHONE["width"] + 1, f"{path} scrolls sideways: {found}"
    # Wide tables and charts scroll inside their own box instead.
    assert page.locator(".bench-chart").evaluate_all(
        "els => els.every(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))"
    )
    assert not errors, errors
    page.close()


def test_heaviest_chart_page_weight(server, browser):
    """A chart page with everything it loads (HTML, CSS, scripts, plotly.js, search index)."""
    context = browser.new_context()
    responses: list = []
    context.on("response", lambda r: responses.append(r))
    page = context.new_page()
    page.goto(f"{server}/onnxruntime.html")
    page.wait_for_selector(".bench-chart .js-plotly-plot svg.main-svg", timeout=15_000)
    page.wait_for_load_state("networkidle")
    sizes = {r.url: len(r.body()) for r in responses if r.ok}
    context.close()
    plotly_js = sizes[f"{server}/assets/javascripts/plotly.min.js"]
    assert plotly_js < 1_500_000, f"plotly.js is {plotly_js} bytes: the basic bundle is about 1.2 MB"
    assert sum(sizes.values()) < 4_000_000, sizes


@pytest.mark.parametrize(("path", "cjk"), [("quantization.html", False), ("zh/quantization.html", True)])
def test_abbreviations_show_a_definition_in_the_page_language(server, browser, path, cjk):
    """Hovering an abbreviation (Material's abbr) shows its glossary definition, in the page's language."""
    page = browser.new_page()
    page.goto(f"{server}/{path}")
    article = page.locator("article")
    qdq = article.locator("abbr", has_text=re.compile(r"^QDQ$")).first
    title = qdq.get_attribute("title") or ""
    assert "QuantizeLinear" in title, title
    assert bool(re.search(r"[\u4e00-\u9fff]", title)) == cjk, f"{path}: tooltip in another language: {title}"
    qdq.hover()
    assert page.evaluate("getComputedStyle(document.querySelector('article abbr')).cursor") == "help"
    # The definitions themselves are consumed, and no abbreviation lands inside code.
    text = article.inner_text()
    assert "*[QDQ]" not in text and "*[p50]" not in text
    assert article.locator("code abbr, pre abbr, a.headerlink abbr").count() == 0
    # The glossary, a page of its own in the same language, defines the same terms at length.
    page.goto(f"{server}/{path.replace('quantization', 'glossary')}")
    assert page.locator("article dl dt").count() >= 30
    assert page.locator("article dt", has_text=re.compile(r"^QDQ$")).count() == 1
    page.close()


START_HERE_STEPS = """() => {
  const heading = document.querySelector('#start-here');
  if (!heading) return null;
  const steps = [];
  for (let e = heading.nextElementSibling; e && !/^H[12]$/.test(e.tagName); e = e.nextElementSibling) {
    for (const li of e.querySelectorAll ? e.querySelectorAll('ol > li') : []) {
      const r = li.getBoundingClientRect();
      steps.push({
        text: li.innerText,
        figure: li.querySelector('abbr.bench-interval')?.title || null,
        links: [...li.querySelectorAll('a')].map(a => a.getAttribute('href')),
        right: r.right,
      });
    }
  }
  return {steps, top: heading.getBoundingClientRect().top};
}"""


@pytest.mark.parametrize("width", [1280, PHONE["width"]])
@pytest.mark.parametrize("path", ["index.html", "zh/index.html"])
def test_home_page_opens_with_the_steps_to_take(server, browser, path, width):
    """A reader's first screen: the start-here steps, each with this build's figure (its interval
    on hover) and links to read on, at desktop and phone width, in both languages."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{server}/{path}")
    found = page.evaluate(START_HERE_STEPS)
    assert found, f"{path}: no start-here section"
    assert found["top"] < 900, f"{path}: start-here is below the first screen ({found['top']} px)"
    steps = found["steps"]
    assert len(steps) >= 3, steps
    with_figures = [s for s in steps if s["figure"]]
    assert with_figures, f"{path}: no step shows a measured figure"
    assert all("[" in s["figure"] and "]" in s["figure"] for s in with_figures)  # the interval, on hover
    assert any(link.startswith("recipes.html#") for s in steps for link in s["links"]), steps
    assert all(s["links"] for s in with_figures), "every measured step links to where to read on"
    assert all(s["right"] <= width + 1 for s in steps), "a step runs off the screen"
    page.close()
