"""The counterfactual build: reversed outcomes on another kind of machine, and no page notices.

Every direction a page states (faster, slower, holds, helps), every hardware feature it
credits to this machine, every core count and version must come from the results or
the machine card. To check that, the site is built twice: from the toy results
(``built_site``) and from a synthetic copy of them in which every outcome is reversed
(each variant's speedup inverted, its latencies rescaled to match, every quality
metric moved across its bar) and the machine card describes an Arm CPU without AVX,
AVX-512, AMX or VNNI, with another core count and other package versions. A sentence
that states a direction in the same words in both builds, with no condition on it, was
typed by hand, and so is any sentence that credits this machine with hardware its
card does not list.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import build_site

# ---- the synthetic result set -------------------------------------------------------------

REVERSED_CARD = {
    "cpu": "Synthetic Arm Neoverse (counterfactual test)",
    "arch": "aarch64",
    "isa": ["NEON", "SVE"],
    "logical_cores": 6,
    "usable_cores": 6,
    "physical_cores": 6,
    "usable_physical_cores": 6,
    "memory_gib": 61.0,
    "os": "Linux 9.9.9-counterfactual",
    "python": "3.11.99",
    "packages": {
        "torch": "9.1.0",
        "onnxruntime": "9.2.0",
        "onnx": "9.3.0",
        "transformers": "9.4.0",
        "numpy": "9.5.0",
        "scikit-learn": "9.6.0",
    },
    "commit": "counterfactual",
    "date": "2000-01-01T00:00:00+00:00",
    "machine_id": "counterfact0",
}

# Strings a result's own records hold about the CPU it ran on (``cpu_capability``, ISA names),
# rewritten to what an Arm CPU would report, so that the results agree with their card.
ISA_WORDS = {
    "AVX512_VNNI": "SVE",
    "AVX512_BF16": "SVE",
    "AVX512": "SVE",
    "AVX-512": "SVE",
    "AVX2": "NEON",
    "AMX": "SME",
    "VNNI": "DOTPROD",
    "Intel(R) Architecture processors": "Arm processors",
}

# Each quality metric's bar (``meets_bar`` in the workload modules): a reversed value is
# mirrored across it, so a variant that met it misses it and one that missed it meets it.
FIXED_BARS = {
    "cosine_mean": 0.99,
    "cosine_min": 0.99,
    "nn_top1_agreement": 0.95,
    "topic_map_ratio": 0.99,
    "nn_top10_overlap": 0.95,
    "top1_agreement": 0.95,
    "agreement_with_fp32": 0.95,
}
RELATIVE_BARS = {"accuracy": 0.01}  # at most this far below the baseline's own value
# Size ratios a variant records against its original (low-rank factors): inverted too.
INVERTED_RATIOS = ("flops_ratio", "params_ratio")


def _mirror(value: float, bar: float) -> float:
    return min(1.0, max(0.0, 2 * bar - value))


def _reverse_quality(metrics: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    out = dict(metrics)
    for key, value in metrics.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if key in FIXED_BARS:
            out[key] = _mirror(value, FIXED_BARS[key])
        elif key in RELATIVE_BARS and key in baseline:
            out[key] = _mirror(value, baseline[key] - RELATIVE_BARS[key])
    return out


def _rewrite_isa(value: Any) -> Any:
    if isinstance(value, str):
        for old, new in ISA_WORDS.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: _rewrite_isa(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_isa(v) for v in value]
    return value


def _scale_latency(entry: dict[str, Any], factor: float) -> None:
    lat = entry["latency"]
    for key in ("mean", "stdev", "min", "max", "p50", "p90", "p99"):
        if isinstance(lat.get(key), int | float):
            lat[key] *= factor
    if "values" in lat:
        lat["values"] = [v * factor for v in lat["values"]]
    if "round_medians" in entry:
        entry["round_medians"] = [v * factor for v in entry["round_medians"]]
    if entry.get("throughput_per_s"):
        entry["throughput_per_s"] /= factor


def _reverse_speedup(speed: dict[str, Any]) -> None:
    low, high = speed["ci_low"], speed["ci_high"]
    speed["median"] = 1.0 / speed["median"]
    speed["ci_low"], speed["ci_high"] = 1.0 / high, 1.0 / low
    if "ratios" in speed:
        speed["ratios"] = [1.0 / r for r in speed["ratios"]]


def reverse_result(data: dict[str, Any]) -> dict[str, Any]:
    """The same experiment with its outcomes reversed, as if run on ``REVERSED_CARD``."""
    data = copy.deepcopy(data)
    data["machine"] = copy.deepcopy(REVERSED_CARD)
    if data["status"] != "ok":
        if "tensorrt" in data["experiment"]:
            # A machine with a GPU that lacks TensorRT: a page that says "no GPU" by itself is wrong.
            data["reason"] = "TensorRT is not installed (GPU present: NVIDIA counterfactual GPU)"
        return data
    baseline = data["config"].get("baseline")
    base_quality = data["variants"].get(baseline, {}).get("quality", {})
    for name, record in data["variants"].items():
        if "info" in record:
            record["info"] = _rewrite_isa(record["info"])
            for key in INVERTED_RATIOS:  # fewer FLOPs become more, and the other way round
                if isinstance(record["info"].get(key), int | float) and record["info"][key] > 0:
                    record["info"][key] = 1.0 / record["info"][key]
        if name != baseline and "quality" in record:
            record["quality"] = _reverse_quality(record["quality"], base_quality)
    for point in data["points"]:
        for entry in point["variants"].values():
            speed = entry.get("speedup")
            if not speed or not speed.get("median"):
                continue
            # speedup = baseline / variant; the variant's latency goes from base/s to base*s.
            _scale_latency(entry, speed["median"] ** 2)
            _reverse_speedup(speed)
    return data


def write_reversed(source: Path, destination: Path) -> Path:
    from benchmarks import results

    destination.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.json")):
        data = reverse_result(json.loads(path.read_text(encoding="utf-8")))
        results.ExperimentResult.from_dict(data, source=str(path))  # still a valid result
        results.write_atomic(destination / path.name, data)
    return destination


@pytest.fixture(scope="module")
def reversed_results(tmp_path_factory: pytest.TempPathFactory, toy_results: Path) -> Path:
    return write_reversed(toy_results, tmp_path_factory.mktemp("reversed-results"))


@pytest.fixture(scope="module")
def reversed_site(tmp_path_factory: pytest.TempPathFactory, reversed_results: Path) -> Path:
    site = tmp_path_factory.mktemp("reversed-site")
    proc = build_site(reversed_results, site)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site


# ---- sentences of a built page ------------------------------------------------------------

BLOCKS = ["p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "summary", "figcaption"]
# Admonitions that quote the article or cite published figures, labelled as such.
CITATION_TITLE = re.compile(r"cited|published|what the article says|the article's answer|引用|文献|原文")
RULE_LABELS = ("Rule:", "判定规则:")

DIRECTION = re.compile(
    r"\b(faster|slower|quicker|speeds? up|sped up|holds|helps?|helped|wins?|won|beats?"
    r"|loses? (?:to|against)|lost (?:to|against)|outperforms?|outperformed|better|worse"
    r"|improves?|improved|hurts?|pays? off|paid off|gains? (?:comes?|came)"
    r"|far (?:below|above)|well (?:below|above)|stays? (?:below|above))\b"
    r"|更快|更慢|变快|变慢|快于|慢于|加快|提速|成立|有帮助|帮助|胜出|获胜|落后|更好|更差|改善|收益最大|最大收益|收益来自"
    r"|远低于|远高于",
    re.IGNORECASE,
)
CONDITIONAL = re.compile(
    r"\b(can|cannot|can't|could|may|might|if|when|whenever|where|whether|unless"
    r"|would|either|whatever|whichever|expected to)\b"
    r"|可能|如果|若|假如|是否|能否|当|时[,,]|取决于|只要|一旦|可以|能够|或许|也许|未必|不一定|预计",
    re.IGNORECASE,
)
# Words the article says, reported as its claims, are a citation, not this site's finding.
REPORTED = re.compile(r"\barticle\b|\barticle's\b|原文|文章", re.IGNORECASE)
# A question asks rather than states, unless it presumes its answer ("Why is X faster?").
NEUTRAL_QUESTION = re.compile(r"^(?!why\b|为什么).*[??]$", re.IGNORECASE)


def _article(path: Path) -> Any:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return soup.select_one("article") or soup


def _strip_quoted(article: Any) -> None:
    """Remove code, charts, scripts, citations and verdict rule texts: no prose of ours in them."""
    for tag in article.select("pre, script, style, div.bench-chart, .headerlink, details.bench-downloads"):
        tag.decompose()
    for box in article.select("div.admonition, details"):
        title = box.select_one(".admonition-title, summary")
        if title is not None and CITATION_TITLE.search(title.get_text(" ", strip=True).lower()):
            box.decompose()
    for paragraph in article.select("p"):
        if paragraph.get_text(" ", strip=True).startswith(RULE_LABELS):
            paragraph.decompose()


BLOCK_BREAK = "\u2029"  # between blocks; line breaks inside a paragraph are only source wrapping


def split_sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|(?<=[。!?])", " ".join(text.split()))
    return [p.strip() for p in parts if p.strip()]


def article_sentences(article: Any) -> list[str]:
    for tag in article.find_all([*BLOCKS, "br"]):
        tag.insert_before(BLOCK_BREAK)
        tag.insert_after(BLOCK_BREAK)
    return [s for block in article.get_text("").split(BLOCK_BREAK) for s in split_sentences(block)]


def page_sentences(path: Path, verdicts_kept: set[str] = frozenset(), tables: bool = False) -> list[str]:
    """Our own prose on a built page; verdict boxes only for claims in ``verdicts_kept``.

    Result tables (``bench-table``) are generated cell by cell from the results, and a cell
    that reads the same in both builds (a verdict that did not flip) says nothing typed by
    hand, so they are left out unless ``tables``.
    """
    article = _article(path)
    _strip_quoted(article)
    if not tables:
        for table in article.select("div.bench-table"):
            table.decompose()
    boxed = []
    for box in article.select('div[id^="claim-"]'):
        claim = box["id"].removeprefix("claim-").upper()
        if claim in verdicts_kept:  # each verdict's sentences compared with the same verdict's
            boxed += [f"[{claim}] {s}" for s in article_sentences(box)]
        box.decompose()
    return article_sentences(article) + boxed


def pages(site: Path) -> list[Path]:
    return sorted(p.relative_to(site) for p in site.rglob("*.html") if p.name != "404.html")


def is_stated_direction(sentence: str) -> bool:
    return bool(
        DIRECTION.search(sentence)
        and not CONDITIONAL.search(sentence)
        and not REPORTED.search(sentence)
        and not NEUTRAL_QUESTION.match(sentence)
    )


def typed_directions(original: list[str], reversed_: list[str]) -> list[str]:
    """Sentences that state a direction and read the same whatever the results say."""
    same = Counter(original) & Counter(reversed_)
    return sorted(s for s in same if is_stated_direction(s))


# ---- verdicts ------------------------------------------------------------------------------


def verdict_outcomes(site: Path) -> dict[str, str]:
    """Claim -> outcome, as the conclusion page's table of every verdict shows it."""
    outcomes = {}
    for row in _article(site / "conclusion.html").select("tr"):
        cells = [c.get_text(" ", strip=True) for c in row.find_all("td")]
        if len(cells) >= 3 and re.fullmatch(r"[TCQ]\d+", cells[0]):
            outcomes[cells[0]] = cells[2]
    return outcomes


# Claims whose rule reads the speeds, qualities or FLOPs ratios that the synthetic set
# reverses: each must come out differently, unless it is inconclusive both times. (C9 reads
# training curves, C12 hit rates, T5 topic scores, T2 a run that needs a GPU: not reversed.)
# T3 is left out: at toy size no structured variant may stay within its own 1-point bound in
# either build (the mirrored quality does not cross that bound), so it reads "does not hold" twice.
MUST_FLIP = ("T1", "T4", "Q1", "C1", "C2", "C5", "C10", "C11")


def test_reversed_results_are_valid_and_reversed(toy_results, reversed_results):
    from benchmarks import results

    for path in toy_results.glob("*.json"):
        before, after = results.load(path), results.load(reversed_results / path.name)
        assert after.machine["arch"] == "aarch64"
        for old, new in zip(before.points, after.points, strict=True):
            for name, entry in old["variants"].items():
                if entry.get("speedup"):
                    assert new["variants"][name]["speedup"]["median"] == pytest.approx(
                        1 / entry["speedup"]["median"]
                    )


def changed_claims(original: Path, reversed_: Path) -> set[str]:
    before, after = verdict_outcomes(original), verdict_outcomes(reversed_)
    return {claim for claim, outcome in before.items() if after.get(claim) != outcome}


def find_typed_directions(original: Path, reversed_: Path) -> dict[str, list[str]]:
    """Per page, the sentences that state a direction and read the same in both builds."""
    changed = changed_claims(original, reversed_)
    found = {}
    for page in pages(reversed_):
        if (original / page).is_file():
            typed = typed_directions(
                page_sentences(original / page, changed), page_sentences(reversed_ / page, changed)
            )
            if typed:
                found[str(page)] = typed
    return found


def test_verdicts_change_when_the_results_reverse(built_site, reversed_site):
    original, reversed_ = verdict_outcomes(built_site), verdict_outcomes(reversed_site)
    assert set(original) >= set(MUST_FLIP), original
    # "partly" can be its own mirror image (some points above the bar, some below, on both
    # sides of the reversal), and "inconclusive" stays so: only the other outcomes must flip,
    # and most claims must.
    unchanged = [c for c in MUST_FLIP if original[c] == reversed_[c]]
    stuck = [c for c in unchanged if not any(w in original[c] for w in ("inconclusive", "partly"))]
    assert not stuck, {c: original[c] for c in stuck}
    assert len(unchanged) <= len(MUST_FLIP) // 2, {c: original[c] for c in unchanged}
    assert verdict_outcomes(built_site / "zh") != verdict_outcomes(reversed_site / "zh")


def test_no_direction_is_typed_by_hand(built_site, reversed_site):
    found = find_typed_directions(built_site, reversed_site)
    assert not found, "directions that do not follow the results:\n" + json.dumps(
        found, indent=1, ensure_ascii=False
    )


# ---- hardware, counts and versions ----------------------------------------------------------

FEATURES = {
    "AMX": (re.compile(r"\bAMX\b"), "AMX"),
    "AVX-512": (re.compile(r"AVX-?512", re.IGNORECASE), "AVX-512"),
    "AVX2": (re.compile(r"\bAVX2\b"), "AVX2"),
    "VNNI": (re.compile(r"VNNI"), "VNNI"),
    "NEON": (re.compile(r"\bNEON\b"), "NEON"),
    "SVE": (re.compile(r"\bSVE\b"), "SVE"),
}
THIS_MACHINE = re.compile(
    r"this (?:cpu|machine|build's cpu|build machine|processor|host)|the build machine|on this build"
    r"|本机|这台机器|本次构建的 ?CPU|这颗 ?CPU|这块 ?CPU|本 ?CPU|构建机器",
    re.IGNORECASE,
)
POSSESSIVE = r"(?:this (?:cpu|machine|processor)['’]s|本机的|本机|这台机器的|本 ?CPU ?的)\s*(?:\w+\s+){0,3}?"
# "No GPU" said of this machine or build, in one clause: the reversed card's machine has one.
NO_GPU = re.compile(
    r"\b(?:no|without) (?:NVIDIA )?GPU\b[^.;,:]{0,40}\b(?:this (?:machine|build)|here)\b"
    r"|\bthis (?:machine|build)\b[^.;,:]{0,30}\b(?:no|without) (?:NVIDIA )?GPU\b"
    r"|\bmachine (?:has|had) no (?:NVIDIA )?GPU\b"
    r"|(?:本次构建|本机|这台机器|参考机器)[^。;,:]{0,10}没有[^。;,:]{0,6}GPU",
    re.IGNORECASE,
)
CORE_COUNT = re.compile(
    r"\b(?:2|two)[- ](?:usable |logical |physical )?cores?\b|\b(?:2|two)-core\b"
    r"|双核|(?:2|两) ?个?(?:可用|逻辑|物理)?核",
    re.IGNORECASE,
)
RELEASE_WORDS = re.compile(r"latest release|latest version|newest release|最新版本|最新发布|最新的版本", re.I)
VERSIONED = re.compile(r"\bTensorRT\s+\d+")


def _has(card: dict[str, Any], feature: str) -> bool:
    label = FEATURES[feature][1]
    return any(label in isa or isa.startswith(label) for isa in card["isa"])


class _Everything(frozenset):
    def __contains__(self, item: object) -> bool:
        return True


ALL_CLAIMS = _Everything()


def hardware_claims(sentences: list[str], card: dict[str, Any]) -> list[str]:
    """Sentences that credit this machine with a feature its card does not list."""
    found = []
    for sentence in sentences:
        for feature, (pattern, _) in FEATURES.items():
            if _has(card, feature) or not pattern.search(sentence):
                continue
            possessive = re.search(POSSESSIVE + pattern.pattern, sentence, re.IGNORECASE)
            stated = THIS_MACHINE.search(sentence) and not CONDITIONAL.search(sentence)
            if possessive or stated:
                found.append(f"{feature}: {sentence}")
    return found


def find_hardware_claims(site: Path, card: dict[str, Any]) -> dict[str, list[str]]:
    found = {}
    for page in pages(site):
        claims = hardware_claims(page_sentences(site / page, ALL_CLAIMS, tables=True), card)
        if claims:
            found[str(page)] = claims
    return found


def find_typed_facts(original: Path, reversed_: Path, original_card: dict[str, Any]) -> dict[str, list[str]]:
    """Core counts, "latest" releases, versions and a missing GPU that no result or card gave."""
    versions = [
        re.compile(rf"\b{re.escape(name)}\s+v?{re.escape('.'.join(version.split('.')[:2]))}\b", re.I)
        for name, version in original_card["packages"].items()
    ]
    found = {}
    for page in pages(reversed_):
        sentences = page_sentences(reversed_ / page, ALL_CLAIMS)
        same = (
            set(sentences) & set(page_sentences(original / page, ALL_CLAIMS))
            if (original / page).is_file()
            else set()
        )
        bad = [s for s in sentences if CORE_COUNT.search(s) and not CONDITIONAL.search(s)]
        bad += [s for s in sentences if RELEASE_WORDS.search(s)]
        bad += [s for s in same if VERSIONED.search(s) or any(v.search(s) for v in versions)]
        bad += [s for s in same if NO_GPU.search(s)]
        if bad:
            found[str(page)] = sorted(set(bad))
    return found


def _toy_card(toy_results: Path) -> dict[str, Any]:
    from benchmarks import results

    return next(results.load(p).machine for p in sorted(toy_results.glob("*.json")))


def test_no_page_credits_this_machine_with_hardware_its_card_lacks(built_site, reversed_site, toy_results):
    found = {
        f"{name}: {page}": claims
        for name, site, card in (
            ("toy build", built_site, _toy_card(toy_results)),
            ("reversed build", reversed_site, REVERSED_CARD),
        )
        for page, claims in find_hardware_claims(site, card).items()
    }
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)


def test_no_count_version_or_gpu_fact_is_typed_by_hand(built_site, reversed_site, toy_results):
    found = find_typed_facts(built_site, reversed_site, _toy_card(toy_results))
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)


# ---- the checks can fail ------------------------------------------------------------------


def test_the_checks_catch_typed_outcomes_and_hardware():
    typed = "ONNX Runtime is faster than PyTorch on this machine."
    rendered = ["ONNX Runtime ran 1.40× faster.", "ONNX Runtime ran 0.71× faster."]
    assert typed_directions([typed, rendered[0]], [typed, rendered[1]]) == [typed]
    assert typed_directions(["ONNX Runtime can be faster."], ["ONNX Runtime can be faster."]) == []
    assert typed_directions(["本机上 ONNX Runtime 更快。"], ["本机上 ONNX Runtime 更快。"]) == [
        "本机上 ONNX Runtime 更快。"
    ]
    assert (
        typed_directions(["Does pruning make a model faster?"] * 2, ["Does pruning make a model faster?"])
        == []
    )
    assert typed_directions(["Why is ONNX Runtime slower?"], ["Why is ONNX Runtime slower?"]) != []
    assert hardware_claims(["MKL uses this CPU's AMX units."], REVERSED_CARD)
    assert hardware_claims(["本机的 AMX 单元做矩阵乘法。"], REVERSED_CARD)
    assert not hardware_claims(["On a CPU with AMX, OpenVINO picks bf16."], REVERSED_CARD)
    assert CORE_COUNT.search("PyTorch on this 2-core machine")
    assert CORE_COUNT.search("[C4] 2 cores instead of 1 up to 1.6×")
    for typed_gpu in (
        "No GPU was available to this build, so this page compares none.",
        "the cost half cannot (no GPU and no power meter on this machine).",
        "This site's reference machine has no GPU.",
        "本次构建没有可用的 GPU,因此本页不作比较。",
    ):
        assert NO_GPU.search(typed_gpu), typed_gpu
    assert not NO_GPU.search("A machine without an NVIDIA GPU records the experiment as skipped.")
    assert RELEASE_WORDS.search("optimum-onnx 0.1.0, the latest release")
    assert VERSIONED.search("TensorRT 11 takes each layer's precision from the graph")


def test_sentences_skip_code_citations_and_rules(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><article><p>We measured it. It ran faster here.</p><pre>faster()</pre>"
        '<div class="admonition info"><p class="admonition-title">Published figures (cited)</p>'
        "<p>X is 2× faster.</p></div>"
        '<div id="claim-t1"><div class="admonition"><p><strong>Rule:</strong> holds if faster.</p>'
        "<p>Verdict: holds.</p></div></div></article></body></html>",
        encoding="utf-8",
    )
    assert page_sentences(page) == ["We measured it.", "It ran faster here."]
    assert page_sentences(page, {"T1"})[-1] == "[T1] Verdict: holds."


def test_reversal_mirrors_quality_across_its_bar():
    assert _reverse_quality({"cosine_mean": 0.999}, {})["cosine_mean"] < 0.99
    assert _reverse_quality({"cosine_mean": 0.95}, {})["cosine_mean"] >= 0.99
    assert _reverse_quality({"accuracy": 0.97}, {"accuracy": 0.97})["accuracy"] < 0.96
