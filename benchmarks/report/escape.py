"""Strings from results files, made safe for a page or a spreadsheet.

A results file, or an archived release's, may come from another machine: every string it holds
(machine card, labels, reasons, info, names) is untrusted. Markdown passes raw HTML through, and
would read a link, an attribute list (``{: onclick=...}``), a table cell's end or a code span's end
in such a string; so each character that makes markup becomes a character reference, which
Markdown leaves alone and browsers and plotly.js show as the character itself. (Emphasis, from
``*`` or ``_``, is harmless and rare; those stay, so that names read the same in the page source.)
"""

from __future__ import annotations

import html
import re
from typing import Any

_REFERENCES = {ord(c): f"&#{ord(c)};" for c in "\\`[]{}|"}
_STRUCTURE_REFERENCES = {ord(c): f"&#{ord(c)};" for c in "\\`[]{}"}
_CONTROL = {c: " " for c in range(32)}


def md_text(value: Any) -> str:
    """A string from a results file, as text in Markdown, HTML or a chart, that shows as itself."""
    line = " ".join(str(value).splitlines()).translate(_CONTROL)
    return html.escape(line, quote=False).translate(_REFERENCES)


def md_code(value: Any) -> str:
    """A string from a results file (a variant's name, a commit) as a code span.

    Markdown shows a code span's content as text (it escapes ``<`` and ``&`` itself); the fence
    is longer than any run of backticks in the string, so none can end the span early."""
    line = " ".join(str(value).splitlines()).translate(_CONTROL).strip()
    fence = "`" * (max((len(run) for run in re.findall(r"`+", line)), default=0) + 1)
    pad = " " if not line or line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)


def md_safe(markdown: str) -> str:
    """Markdown written by code around strings from results files (a verdict's evidence).

    Its code spans, emphasis, paragraphs and tables stay; HTML, links, images and attribute lists
    in it show as text. Each code span is set again by ``md_code``, and a backtick outside one
    shows as a backtick, so a string cannot open or end a code span."""

    def plain(part: str) -> str:
        part = part.translate({c: " " for c in range(32) if chr(c) not in "\n\t"})
        return html.escape(part, quote=False).translate(_STRUCTURE_REFERENCES)

    out, pos = [], 0
    for match in _CODE_SPAN.finditer(markdown):
        out += [plain(markdown[pos : match.start()]), md_code(match.group(2).strip())]
        pos = match.end()
    out.append(plain(markdown[pos:]))
    return "".join(out)


def md_reason(reason: str | None) -> str:
    """Why a run failed or was skipped, on one line: the pipelines write it in Markdown (a command
    in a code span), so it goes through ``md_safe``."""
    return md_safe(" ".join((reason or "").splitlines()))


# A spreadsheet opening a CSV runs a cell that starts with one of these as a formula (CSV
# injection); names in a results file may come from another machine.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value for a downloadable CSV: strings that a spreadsheet would read as a formula get a
    leading apostrophe, as OWASP advises; numbers and other strings are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
