"""Render stored results as Markdown tables and plotly charts, in English or Chinese.

Reads JSON only (pandas and plotly, never torch), so the site builds fast and a
page can only show numbers that a run wrote. ``Renderer`` replaces a page's
``<!-- bench:KIND ARG -->`` markers (``markers.MARKERS`` maps each kind to its
widget); the page strings live in ``strings``, the escaping of strings read
from results files in ``escape``.
"""

from __future__ import annotations

from benchmarks.report.downloads import download_links, results_frame
from benchmarks.report.escape import csv_cell, md_code, md_reason, md_safe, md_text
from benchmarks.report.markers import MARKER, MARKERS
from benchmarks.report.markup import MarkerError
from benchmarks.report.overview import COMPARISON_ROWS
from benchmarks.report.page import Renderer

__all__ = [
    "COMPARISON_ROWS",
    "MARKER",
    "MARKERS",
    "MarkerError",
    "Renderer",
    "csv_cell",
    "download_links",
    "md_code",
    "md_reason",
    "md_safe",
    "md_text",
    "results_frame",
]
