"""Every string the report writes on a page, in English and in Chinese: one catalogue,
kept as data in ``strings.yml`` beside this module.

Each table maps a language to its strings; a key has a string in both languages
(``tests/test_strings.py`` checks it). Strings read from results files (labels, reasons,
quality bars) are not here: they travel with the results.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

Catalogue = dict[str, dict[str, str]]

LANGUAGES = ("en", "zh")

STRINGS_FILE = Path(__file__).with_name("strings.yml")
# One data file, not code: the catalogues by name ("report": the widgets' headers, notices,
# verdict words and captions; "recipes": the recipes page; "techniques": the article's table;
# "workloads": the workloads as a reader knows them; "start_here": the home page's steps
# and the decision aid).
CATALOGUES: dict[str, Catalogue] = yaml.safe_load(STRINGS_FILE.read_text(encoding="utf-8"))
TEXT = CATALOGUES["report"]
RECIPES = CATALOGUES["recipes"]
TECHNIQUES = CATALOGUES["techniques"]
WORKLOADS = CATALOGUES["workloads"]
START_HERE = CATALOGUES["start_here"]


def technique_name(lang: str, technique: str) -> str:
    """The technique as its page names it; its id where none is catalogued."""
    if technique in TECHNIQUES[lang]:
        return TECHNIQUES[lang][technique]
    return START_HERE[lang].get(f"technique:{technique}", technique)


def workload_name(lang: str, workload: str) -> str:
    """The workload as a reader knows it ("digits CNN"); its id where none is catalogued."""
    return WORKLOADS[lang].get(workload, WORKLOADS["en"].get(workload, workload))


_WORKLOAD_IDS = re.compile(
    r"(?<![\w/.#-])(" + "|".join(re.escape(k) for k in WORKLOADS["en"] if ":" not in k) + r")(?![\w/.-])"
)


def human_names(text: str, lang: str) -> str:
    """``text`` with each workload id a judge wrote ("digits-cnn (batch 1)") as a reader knows
    it; ids inside code spans and experiment names (``engines/minilm``) stay as they are."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):  # outside code spans
        parts[i] = _WORKLOAD_IDS.sub(lambda m: workload_name(lang, m.group(1)), parts[i])
    return "`".join(parts)


def t(lang: str, key: str) -> str:
    """A report string in ``lang``; the English one where ``lang`` lacks it, else the key."""
    return TEXT[lang].get(key, TEXT["en"].get(key, key))
