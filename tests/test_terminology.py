"""Every Chinese text of the site uses the one term per concept of docs/terminology.yml.

Checked: the Chinese pages (docs/**/*.zh.md), the markdown cells of the Chinese notebooks,
the Chinese string literals of the Python code that writes page text (benchmarks/), the
Chinese navigation titles (mkdocs.yml) and the abbreviation files appended to Chinese pages.
Not checked: code, HTML tags and verbatim quotations of the article (``!!! quote``
admonitions, the article's own table, text between 「」).
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TERMINOLOGY = yaml.safe_load((ROOT / "docs" / "terminology.yml").read_text(encoding="utf-8"))

CJK = r"\u3400-\u9fff\uf900-\ufaff"
CJK_TEXT = re.compile(f"[{CJK}]")
# A straight double quote touching Chinese text (or Chinese punctuation) is a quotation mark in prose.
ASCII_QUOTE = re.compile(f'(?<=[{CJK}\u3000-\u303f\uff00-\uffef])"|"(?=[{CJK}\u3000-\u303f\uff00-\uffef])')
# Section anchors whose body quotes the article verbatim.
QUOTED_SECTIONS = {"article-table"}


@dataclass(frozen=True)
class Text:
    where: str  # path, with the cell for a notebook
    line: int
    text: str


def _clean(text: str) -> str:
    """Prose only: no inline code, HTML or attribute lists (link targets stay: they name pages)."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"<!--.*?-->", " ", text)
    text = re.sub(r"</?[A-Za-z][^>]*>", " ", text)
    text = re.sub(r"\{[:#.][^}]*\}|\{ [#.][^}]*\}", " ", text)
    return text


def markdown_texts(source: str, where: str, first_line: int = 1) -> list[Text]:
    """The prose lines of a Markdown text, without code, quotations of the article or markup."""
    texts: list[Text] = []
    fence: str | None = None
    quote_indent: int | None = None  # inside a `!!! quote` admonition body
    skip_level: int | None = None  # inside a section that quotes the article
    for number, raw in enumerate(source.splitlines(), first_line):
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        match = re.match(r"(`{3,}|~{3,})", stripped)
        if match:
            fence = match.group(1)
            continue
        if quote_indent is not None:
            if not stripped or indent > quote_indent:
                continue
            quote_indent = None
        heading = re.match(r"(#{1,6})\s", stripped)
        if heading:
            level = len(heading.group(1))
            if skip_level is not None and level <= skip_level:
                skip_level = None
            anchor = re.search(r"\{\s*#([\w-]+)", stripped)
            if anchor and anchor.group(1) in QUOTED_SECTIONS:
                skip_level = level
        if skip_level is not None or stripped.startswith("--8<--"):
            continue
        admonition = re.match(r'(?:!!!|\?\?\?\+?)\s+([\w-]+)(?:\s+[\w-]+)*\s*(?:"(.*)")?\s*$', stripped)
        if admonition:
            if admonition.group(1) == "quote":
                quote_indent = indent
            raw = admonition.group(2) or ""
        texts.append(Text(where, number, _clean(raw)))
    return texts


def notebook_texts(path: Path) -> list[Text]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    texts: list[Text] = []
    for index, cell in enumerate(notebook["cells"], 1):
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            texts += markdown_texts(source, f"{_rel(path)} cell {index}")
    return texts


def python_texts(path: Path) -> list[Text]:
    """Each string literal (or f-string) that holds Chinese text, at its own line."""
    texts: list[Text] = []
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    for token in tokens:
        if token.type != tokenize.STRING or not CJK_TEXT.search(token.string):
            continue
        body = re.match(r"[rRbBuUfF]*('''|\"\"\"|'|\")(.*)\1$", token.string, re.DOTALL)
        assert body, token.string
        for offset, line in enumerate(body.group(2).split("\n")):
            texts.append(Text(_rel(path), token.start[0] + offset, _clean(line)))
    return texts


def yaml_texts(path: Path) -> list[Text]:
    """Each line of a data file (the page strings' catalogue) that holds Chinese text."""
    return [
        Text(_rel(path), number, _clean(line.split(":", 1)[1] if ":" in line else line))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CJK_TEXT.search(line) and not line.lstrip().startswith("#")
    ]


def nav_texts(path: Path) -> list[Text]:
    """The Chinese titles of the navigation (nav_translations in mkdocs.yml)."""
    return [
        Text(_rel(path), number, line.strip())
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ":" in line and CJK_TEXT.search(line.split(":", 1)[1])
    ]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def chinese_texts() -> list[Text]:
    texts: list[Text] = []
    for path in sorted((ROOT / "docs").rglob("*.zh.md")):
        texts += markdown_texts(path.read_text(encoding="utf-8"), _rel(path))
    for path in sorted((ROOT / "docs").rglob("*.zh.ipynb")):
        texts += notebook_texts(path)
    for path in sorted((ROOT / "benchmarks").rglob("*.py")):
        texts += python_texts(path)
    for path in sorted((ROOT / "benchmarks").rglob("*.yml")):
        texts += yaml_texts(path)
    texts += nav_texts(ROOT / "mkdocs.yml")
    return [text for text in texts if CJK_TEXT.search(text.text)]


def banned_uses(text: Text) -> list[str]:
    """'path:line: variant → term (concept)' for each banned variant in one line of text."""
    found: list[str] = []
    unquoted = re.sub(r"「[^」]*」", "「」", text.text)  # quotations keep the quoted words
    for term in TERMINOLOGY["terms"]:
        line = unquoted
        for phrase in term.get("allowed", []):
            line = re.sub(phrase, " ", line)
        for variant in term["banned"]:
            for match in re.finditer(variant, line):
                found.append(
                    f"{text.where}:{text.line}: {match.group(0)!r} → {term['zh']} ({term['concept']})"
                )
    quotes = TERMINOLOGY["quotes"]
    for mark in quotes["banned"]:
        if mark in text.text:
            found.append(f"{text.where}:{text.line}: {mark!r} → {quotes['zh']} (quotation marks)")
    if ASCII_QUOTE.search(text.text):
        found.append(f"{text.where}:{text.line}: '\"' → {quotes['zh']} (quotation marks)")
    return found


def test_the_terminology_file_is_well_formed():
    concepts = [term["concept"] for term in TERMINOLOGY["terms"]]
    assert len(concepts) == len(set(concepts)), "a concept listed twice"
    chosen = {term["concept"]: term["zh"] for term in TERMINOLOGY["terms"]}
    for term in TERMINOLOGY["terms"]:
        for variant in term["banned"]:
            re.compile(variant)
            for concept, zh in chosen.items():
                for word in re.split(r"[ /()()]+", zh):
                    assert not (word and re.fullmatch(variant, word)), (term["concept"], variant, concept)


def test_the_reader_finds_chinese_text_to_check():
    where = {text.where.split(" ")[0] for text in chinese_texts()}
    assert "docs/pruning.zh.md" in where
    assert "benchmarks/report/strings.yml" in where
    assert any(path.endswith(".zh.ipynb") for path in where)
    assert "mkdocs.yml" in where


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("结构化剪枝删除整个通道。", ["剪枝"]),
        ("修剪(剪枝)去掉作用不大的权重。", []),
        ("见「模型剪枝」一节。", []),
        ('原文所说的"额外的训练步骤"。', ['"']),
        ('!!! quote "原文"', []),
        ("# 结论 { #conclusion }", []),
        ("## 结论 { #verdict }", ["结论"]),
        ("见[结论](conclusion.md)。", []),
        ("`配方` 是代码", []),
        ("吞吐量上升,吞吐下降", ["吞吐"]),
    ],
)
def test_the_check_finds_what_it_should(line, expected):
    texts = markdown_texts(line, "example.zh.md")
    found = [use for text in texts for use in banned_uses(text)]
    assert [use.split(": ", 1)[1].split(" → ")[0].strip("'") for use in found] == expected


def test_every_chinese_text_uses_the_chosen_terms():
    found = [use for text in chinese_texts() for use in banned_uses(text)]
    assert not found, "banned variants (see docs/terminology.yml):\n" + "\n".join(found)
