"""Check that every page has its twin in the other language, with the same skeleton.

English pages are ``x.md``, Chinese ones ``x.zh.md``. Twins must share their
explicit heading anchors (``{ #id }``), their result markers, and the code they
include from the pipeline source. Exit status 1 lists every mismatch.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ANCHOR = re.compile(r"^#{1,6} .*\{\s*#([\w-]+)\s*\}\s*$", re.MULTILINE)
MARKER = re.compile(r"<!--\s*bench:[^>]*-->")
SNIPPET = re.compile(r'^-{2}8<-{2} ".*"$', re.MULTILINE)
FENCE = re.compile(r"^```", re.MULTILINE)
HEADING = re.compile(r"^#{1,6} ", re.MULTILINE)
# A fenced block's lines are code: a comment there is no heading.
FENCED = re.compile(r"^(`{3,}).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)


def skeleton(text: str) -> dict[str, list[str] | int]:
    return {
        "anchors": ANCHOR.findall(text),
        "markers": [re.sub(r"\s+", " ", m) for m in MARKER.findall(text)],
        "included code": SNIPPET.findall(text),
        "code fences": len(FENCE.findall(text)),
    }


def check(docs: Path) -> list[str]:
    problems = []
    pages = sorted(p for p in docs.rglob("*.md") if "overrides" not in p.parts)
    for page in pages:
        rel = page.relative_to(docs)
        if page.name.endswith(".zh.md"):
            twin = page.with_name(page.name[: -len(".zh.md")] + ".md")
            if not twin.exists():
                problems.append(f"{rel}: no English twin {twin.relative_to(docs)}")
            continue
        twin = page.with_name(page.name[: -len(".md")] + ".zh.md")
        if not twin.exists():
            problems.append(f"{rel}: no Chinese twin {twin.relative_to(docs)}")
            continue
        en, zh = page.read_text(encoding="utf-8"), twin.read_text(encoding="utf-8")
        prose = FENCED.sub("", en)
        if len(ANCHOR.findall(prose)) != len(HEADING.findall(prose)):
            problems.append(f"{rel}: every heading needs an explicit {{ #anchor }} shared with its twin")
        for part, value in skeleton(en).items():
            other = skeleton(zh)[part]
            if value != other:
                problems.append(f"{rel}: {part} differ from {twin.relative_to(docs)}: {value} != {other}")
    return problems


def main(argv: list[str]) -> int:
    docs = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "docs"
    problems = check(docs)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"ok: every page in {docs} has a matching twin")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
