"""``bench:training``: the one training recipe type and the knobs each technique sets, read from
``benchmarks/training.py`` (the code that trains), so the page cannot drift from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from benchmarks.report.escape import md_code
from benchmarks.report.markup import MarkerError, markdown_table
from benchmarks.report.strings import t

if TYPE_CHECKING:
    from benchmarks.report.page import Renderer


def training(page: Renderer, arg: str | None, lang: str) -> str:
    """One row per experiment that trains, one column per knob (blank where it does not apply)."""
    from benchmarks.training import recipes

    if arg is not None:
        raise MarkerError("bench:training takes no argument")
    knobs = recipes()
    columns = list(dict.fromkeys(k for record in knobs.values() for k in record))
    rows = [
        {
            t(lang, "experiments"): md_code(name),
            **{md_code(k): md_code(record[k]) if k in record else "" for k in columns},
        }
        for name, record in knobs.items()
    ]
    return markdown_table(pd.DataFrame(rows)) + "\n"
