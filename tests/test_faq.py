"""The FAQ's inline figures: options that keep intervals in a tooltip and units in the sentence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.report import inline
from benchmarks.report.markup import MarkerError

REPO = Path(__file__).resolve().parent.parent
SPEED = {"median": 1.3456, "ci_low": 1.2, "ci_high": 1.5, "confidence": 0.969}


def test_options_are_split_from_the_spec():
    assert inline.figure_options("a/b:v:speedup@batch=1;tip") == ("a/b:v:speedup@batch=1", {"tip"})
    assert inline.figure_options("a/b:v:hit_rate") == ("a/b:v:hit_rate", set())
    with pytest.raises(MarkerError):
        inline.figure_options("a/b:v:speedup;bold")


def test_a_tooltip_keeps_the_interval_out_of_the_sentence():
    plain = inline._speedup(SPEED, "en", tip=False)
    tipped = inline._speedup(SPEED, "en", tip=True)
    assert "[1.20, 1.50]" in plain.replace("\\", "")
    assert tipped.startswith("<abbr") and tipped.endswith(">1.35×</abbr>")
    assert 'title="' in tipped and "[1.20, 1.50]" in tipped
    assert "置信区间" in inline._speedup(SPEED, "zh", tip=True)


def test_a_fraction_reads_as_a_percentage():
    assert inline._fraction("0.7451", "spec") == "74.5%"
    with pytest.raises(MarkerError):
        inline._fraction("bf16", "spec")


@pytest.mark.parametrize("page", ["faq.md", "faq.zh.md"])
def test_the_faq_writes_no_interval_in_a_sentence(page):
    """Every speedup of the FAQ keeps its interval in a tooltip; hit rates are percentages."""
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    speedups = re.findall(r"<!-- bench:figure (\S+:speedup\S*) -->", text)
    assert speedups and all(s.endswith(";tip") for s in speedups), speedups
    assert all(s.endswith(";pct") for s in re.findall(r"<!-- bench:figure (\S+:hit_rate\S*) -->", text))
