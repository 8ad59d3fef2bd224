"""The inference page's rules (C11 input format, C12 caching, C13 small models on a CPU)."""

from __future__ import annotations

from typing import Any

from benchmarks.claims import (
    Finding,
    Verdict,
    info,
    margin_text,
    point,
    quality,
    side_of,
    speedup,
    speedup_entry,
)
from benchmarks.techniques.methods import CACHE_EXPERIMENTS, CACHE_SIZES, ZIPF_S, ZIPF_S_MILD

PADDING_GAIN = 1.2
CACHE_GAIN = 1.5
C13_BUDGET_MS = 50.0  # p99 of one interactive request's model call
C13_EXPERIMENTS = ("onnxruntime/minilm", "onnxruntime/digits-cnn", "layout/resnet50")


def _params(params: dict[str, int], lang: str = "en") -> str:
    names = {"en": {"batch": "batch", "seq_len": "seq"}, "zh": {"batch": "批大小", "seq_len": "序列"}}[lang]
    return ("、" if lang == "zh" else ", ").join(f"{names.get(k, k)} {v}" for k, v in params.items())


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.2f}×"


def judge_c11(results: dict[str, Any]) -> Finding:
    from benchmarks.workloads import minilm

    result = results["inputs/minilm"]
    pairs = [(e["params"], speedup(result, "pad-longest", **e["params"])) for e in result.points]
    best = max(pairs, key=lambda p: p[1])
    within = minilm.meets_bar(quality(result, "pad-longest"), quality(result, "pad-max-length"))
    outcome = (
        "holds"
        if best[1] >= PADDING_GAIN and within
        else "partly"
        if best[1] >= 1.05 and within
        else "does-not-hold"
    )
    shares = info(result, "pad-longest")["tokenizer_share_by_batch"]
    pads = info(result, "pad-max-length")["padding_fraction_by_batch"]
    by_batch = sorted(result.points, key=lambda e: (e["params"]["seq_len"], e["params"]["batch"]))
    throughput = {
        (e["params"]["batch"], e["params"]["seq_len"]): e["variants"]["pad-longest"]["throughput_per_s"]
        for e in by_batch
    }
    fid = quality(result, "pad-longest")["cosine_mean"]
    share_en = ", ".join(f"{v['tokenize_share']:.1%} at batch {b}" for b, v in shares.items())
    share_zh = ",".join(f"批大小 {b} 时 {v['tokenize_share']:.1%}" for b, v in shares.items())
    pad_en = ", ".join(f"{v:.0%} at batch {b}" for b, v in pads.items())
    pad_zh = ",".join(f"批大小 {b} 时 {v:.0%}" for b, v in pads.items())
    tput_en = ", ".join(f"{t:.0f}/s at batch {b}, seq {s}" for (b, s), t in throughput.items())
    tput_zh = ",".join(f"批大小 {b}、序列 {s} 时每秒 {t:.0f} 句" for (b, s), t in throughput.items())
    max_len = info(result, "pad-longest")["share_max_length"]
    en = (
        f"dynamic padding runs at best at {best[1]:.2f}× the speed of padding to the fixed length "
        f"({_params(best[0])}), "
        f"mean cosine to it {fid:.6f}; padding to {max_len} tokens fills {pad_en} of the input with padding; "
        f"the tokenizer takes {share_en} of a request (dynamic padding, up to {max_len} tokens); "
        f"sentences per second with dynamic padding: {tput_en}"
    )
    zh = (
        f"动态填充的速度最多是填充到固定长度的 {best[1]:.2f}×({_params(best[0], 'zh')}),"
        f"与其平均余弦相似度 {fid:.6f};"
        f"填充到 {max_len} 个词元时,填充占输入的比例为 {pad_zh};分词器占一次请求时间的比例为 {share_zh}"
        f"(动态填充,最长 {max_len} 个词元);动态填充的吞吐量:{tput_zh}"
    )
    return Finding(outcome, en + ".", zh + "。")


def _best_cache(result: Any) -> tuple[str | None, dict[str, Any] | None, list[tuple[str, str]]]:
    """The cache size with the highest paired speedup whose answers are the encoder's, at any point,
    and the per-size evidence (English, Chinese) of this stream."""
    from benchmarks.workloads import minilm

    best_name, best = None, None
    lines = []
    for name in result.variants:
        if name == "no-cache":
            continue
        record = info(result, name)
        exact = minilm.meets_bar(quality(result, name), quality(result, "no-cache"))
        top = max(
            (speedup_entry(result, name, **e["params"]) for e in result.points), key=lambda x: x["median"]
        )
        if exact and (best is None or top["median"] > best["median"]):
            best_name, best = name, top
        lines.append(
            (
                f"{name}: hit rate {record['hit_rate']:.0%}, {_times(top['median'])} the requests per "
                f"second, {record['cache_mb_when_full']:.2f} MB when full"
                + ("" if exact else " (answers differ from the encoder's)"),
                f"{name}:命中率 {record['hit_rate']:.0%},每秒请求数为无缓存的 {_times(top['median'])},"
                f"存满时占 {record['cache_mb_when_full']:.2f} MB" + ("" if exact else "(结果与编码器不一致)"),
            )
        )
    return best_name, best, lines


def judge_c12(results: dict[str, Any]) -> Finding:
    sides, en, zh = [], [], []
    for exp in CACHE_EXPERIMENTS:
        result = results[exp]
        skew = info(result, "no-cache")["zipf_s"]
        n_texts = info(result, "no-cache")["distinct_sentences"]
        name, best, lines = _best_cache(result)
        side = "below" if best is None else side_of(best, CACHE_GAIN)
        sides.append(side)
        decide_en = f"best {name}: {margin_text(best, CACHE_GAIN)}" if best else "no cache size meets the bar"
        decide_zh = f"最佳 {name}:{margin_text(best, CACHE_GAIN, 'zh')}" if best else "没有缓存大小满足门槛"
        en.append(
            f"Zipf s={skew} over {n_texts} distinct sentences: {decide_en}; " + "; ".join(e for e, _ in lines)
        )
        zh.append(f"Zipf s={skew},{n_texts} 条不同句子:{decide_zh};" + ";".join(z for _, z in lines))
    if all(side == "above" for side in sides):
        outcome = "holds"
    elif all(side == "below" for side in sides):
        outcome = "does-not-hold"
    elif "above" in sides:
        outcome = "partly"
    else:  # no stream clearly above the bar, and at least one whose interval straddles it
        outcome = "inconclusive"
    return Finding(outcome, ". ".join(en) + ".", "。".join(zh) + "。")


def judge_c13(results: dict[str, Any]) -> Finding:
    from benchmarks import workloads

    small = ("onnxruntime/minilm", "onnxruntime/digits-cnn")
    en, zh, within = [], [], 0
    for exp in (*small, "layout/resnet50"):
        result = results[exp]
        name = result.config["workload"]
        module = workloads.get(name)
        base = result.config["baseline"]
        ref = {k: v for k, v in module.REFERENCE_POINT.items()}
        try:
            entry = point(result, **ref)
        except KeyError:
            en.append(f"{name}: reference point {_params(ref)} not measured in {exp}")
            zh.append(f"{name}:{exp} 没有测量参考点 {_params(ref, 'zh')}")
            continue
        fits = [
            (v, e["latency"]["p99"], e["throughput_per_s"])
            for v, e in entry["variants"].items()
            if v == base or module.meets_bar(quality(result, v), quality(result, base))
        ]
        v, p99, tput = min(fits, key=lambda f: f[1])
        ok = p99 <= C13_BUDGET_MS
        if exp in small:
            within += ok
        role_en = "" if exp in small else " (a standard-size model, for contrast; not in the rule)"
        role_zh = "" if exp in small else "(标准规模模型,仅作对照,不计入规则)"
        en.append(f"{name}: p99 {p99:.3g} ms with {v} at {_params(ref)}, {tput:.0f} items/s{role_en}")
        zh.append(f"{name}:{v} 在{_params(ref, 'zh')} 时 p99 为 {p99:.3g} 毫秒,每秒 {tput:.0f} 条{role_zh}")
    outcome = "holds" if within == len(small) else "partly" if within else "does-not-hold"
    note_en = (
        " Cost and energy are not measured (the pipelines read no prices and no power meter), "
        "so that half is not judged."
    )
    note_zh = "流水线既不读取价格也不读取功率计,因此没有测量成本与能耗,这一半不作判定。"
    return Finding(outcome, "; ".join(en) + "." + note_en, ";".join(zh) + "。" + note_zh)


VERDICTS = [
    Verdict(
        claim="C11",
        experiments=("inputs/minilm",),
        rule=(
            "The input side is measured on MiniLM from text to embedding: dynamic padding against padding to "
            f"a fixed length. Holds if dynamic padding is at least {PADDING_GAIN}× faster at some measured "
            "point while meeting the workload's fidelity bar; partly if at least 1.05×; does not hold "
            "otherwise. The tokenizer's share of a request and the throughput by batch size are reported "
            "with it."
        ),
        rule_zh=(
            "在 MiniLM 上从文本到向量测量输入端:动态填充对比填充到固定长度。若动态填充在某个测量点上快至少 "
            f"{PADDING_GAIN}× 且满足该工作负载的保真度门槛,则成立;至少 1.05× 则部分成立;否则不成立。"
            "同时报告分词器占一次请求的时间比例,以及不同批大小下的吞吐量。"
        ),
        judge=judge_c11,
    ),
    Verdict(
        claim="C12",
        experiments=tuple(CACHE_EXPERIMENTS),
        rule=(
            "Two request streams drawn from the evaluation sentences with Zipf popularity, a steep one "
            f"(s = {ZIPF_S}) and a mild one (s = {ZIPF_S_MILD}); every LRU cache holds at most "
            f"{max(CACHE_SIZES)} of the distinct sentences, never all of them. On each stream, take the "
            "cache size with the highest paired speedup in requests per second over no cache whose answers "
            f"meet the fidelity bar. Holds if that speedup's interval lies at or above {CACHE_GAIN}× on both "
            "streams; partly if on one; does not hold if it lies below on both; inconclusive if neither "
            "stream is clearly above and an interval straddles the threshold."
        ),
        rule_zh=(
            "从评测句子中按 Zipf 流行度抽取两条请求流:一条倾斜陡峭"
            f"(s = {ZIPF_S}),一条平缓(s = {ZIPF_S_MILD});每个 LRU 缓存最多容纳 {max(CACHE_SIZES)} "
            "条不同句子,绝不能装下全部。在每条请求流上,取结果满足保真度门槛、每秒请求数相对无缓存的"
            f"成对加速比最高的缓存大小。若两条流上该加速比的区间都不低于 {CACHE_GAIN}×,则成立;"
            "只有一条做到则部分成立;两条的区间都低于门槛则不成立;"
            "若没有一条明确高于门槛,且有区间跨过门槛,则在本机上无法判定。"
        ),
        judge=judge_c12,
    ),
    Verdict(
        claim="C13",
        experiments=C13_EXPERIMENTS,
        rule=(
            "For the two small workloads (digits CNN, MiniLM), take the fastest measured CPU variant that "
            "meets the workload's quality bar at its reference point (one request, batch 1). Holds if its "
            f"p99 latency is at most {C13_BUDGET_MS:.0f} ms on both; partly if on one; does not hold if on "
            "neither. The cost and energy half of the claim is not judged: it needs a GPU and a power meter."
        ),
        rule_zh=(
            "对两个小型工作负载(手写数字 CNN、MiniLM),在其参考点(单个请求,批大小 1)上"
            "取满足质量门槛的最快 CPU "
            f"变体。若两者的 p99 延迟都不超过 {C13_BUDGET_MS:.0f} 毫秒,则成立;只有一个做到则部分成立;"
            "都做不到则不成立。论断中关于成本与能耗的一半不作判定:那需要 GPU 和功率计。"
        ),
        judge=judge_c13,
    ),
]
