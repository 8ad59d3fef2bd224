"""The page strings: every key in both languages, and a Chinese string that is a translation."""

from __future__ import annotations

import string

import pytest

from benchmarks.report import strings
from benchmarks.report.roofline import ROOF_TEXT

CATALOGUES = {**strings.CATALOGUES, "roofline": ROOF_TEXT}

# Strings that read the same in both languages: names, and words Chinese pages write in Latin script.
SAME_IN_BOTH = {
    ("report", "cpu"),
    ("report", "python"),
    ("techniques", "onnxruntime"),
    ("techniques", "tensorrt"),
    ("workloads", "resnet50"),
}


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_key_has_a_string_in_both_languages(name):
    catalogue = CATALOGUES[name]
    assert set(catalogue) == set(strings.LANGUAGES), name
    en, zh = catalogue["en"], catalogue["zh"]
    assert sorted(set(en) ^ set(zh)) == [], f"{name}: keys in one language only"
    for key in en:
        assert isinstance(en[key], str) and en[key].strip(), (name, key, "en")
        assert isinstance(zh[key], str) and zh[key].strip(), (name, key, "zh")


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_the_chinese_string_is_not_the_english_one(name):
    catalogue = CATALOGUES[name]
    same = {key for key in catalogue["en"] if catalogue["zh"].get(key) == catalogue["en"][key]}
    assert same == {key for n, key in SAME_IN_BOTH if n == name}, name


def test_a_string_missing_in_a_language_falls_back_to_english_then_the_key():
    assert strings.t("zh", "holds") == "成立"
    assert strings.t("en", "holds") == "holds"
    assert strings.t("zh", "no-such-key") == "no-such-key"


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_both_languages_fill_in_the_same_fields(name):
    """A field one language lacks would drop a figure from its page; one it adds would raise."""
    catalogue = CATALOGUES[name]
    for key, en in catalogue["en"].items():
        fields = {f for _, f, _, _ in string.Formatter().parse(en) if f is not None}
        zh = {f for _, f, _, _ in string.Formatter().parse(catalogue["zh"][key]) if f is not None}
        assert fields == zh, (name, key)
