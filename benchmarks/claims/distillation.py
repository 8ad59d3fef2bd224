"""The distillation page's rule (T5): a compact student, faster, as good, worth the extra training?"""

from __future__ import annotations

from typing import Any

from benchmarks.claims import Finding, Verdict, info, quality, speedup

SPEEDUP_BAR = 1.5
ACCURACY_DROP_MAX = 0.01
COSINE_MIN = 0.90
POINT_ZH = {"batch": "批大小", "seq_len": "序列长度"}
# (experiment, distilled student, control, teacher) judged by the rule.
JUDGED = (
    ("distillation/digits-cnn", "student-w4-distilled", "student-w4-labels", "pytorch-eager"),
    ("distillation/minilm", "student-3l-distilled", "student-3l-copy", "pytorch-eager"),
)


def _training_s(result: Any, variant: str) -> float:
    costs = result.one_time_costs.get(variant, {})
    return sum(v for k, v in costs.items() if k in ("train_s", "teacher_embed_s", "distil_s"))


# The other compression methods of the article's table, measured on the same workloads and points:
# the article says distillation's gain "may not match" theirs (claim T5's drawback).
OTHER_COMPRESSION = {
    "digits-cnn": ("pruning/digits-cnn", "low-rank/digits-cnn"),
    "minilm": ("pruning/minilm", "low-rank/minilm"),
}


def _keeps(result: Any, variant: str, teacher: str) -> bool:
    """The quality part of the rule, (b), for any variant against its experiment's teacher."""
    got, base = quality(result, variant), quality(result, teacher)
    if result.config["workload"] == "digits-cnn":
        return got["accuracy"] >= base["accuracy"] - ACCURACY_DROP_MAX
    return got["cosine_mean"] >= COSINE_MIN


def _best_other(results: dict[str, Any], workload: str, params: dict[str, int]) -> tuple[float, str] | None:
    """The fastest pruned or factorised variant that keeps quality by (b), at the same point."""
    best = None
    for exp in OTHER_COMPRESSION[workload]:
        other = results[exp]
        for name in other.variants:
            if name == other.config["baseline"] or not _keeps(other, name, other.config["baseline"]):
                continue
            try:
                figure = speedup(other, name, **params)
            except KeyError:  # not measured at this point
                continue
            if best is None or figure > best[0]:
                best = (figure, f"{exp} `{name}`")
    return best


def _judge_one(
    results: dict[str, Any], exp: str, student: str, control: str, teacher: str
) -> tuple[dict[str, bool], str, str]:
    result = results[exp]
    largest = result.points[-1]["params"]
    fast = speedup(result, student, **largest)
    where = ", ".join(f"{k} {v}" for k, v in largest.items())
    where_zh = ",".join(f"{POINT_ZH.get(k, k)} {v}" for k, v in largest.items())
    trained = _training_s(result, student)
    cached = info(result, student).get("distil_cached", False)
    cached_en = " (recorded when the cached student was trained)" if cached else ""
    cached_zh = "(缓存的学生模型训练时记录)" if cached else ""
    workload = result.config["workload"]
    keeps = _keeps(result, student, teacher)
    if workload == "digits-cnn":
        s, c, t = (quality(result, v)["accuracy"] for v in (student, control, teacher))
        beats = s > c
        figures_en = f"test accuracy {s:.2%} (teacher {t:.2%}, label-only control {c:.2%})"
        figures_zh = f"测试准确率 {s:.2%}(教师 {t:.2%},仅用标签的对照 {c:.2%})"
        name_en, name_zh = "Digits CNN", "Digits CNN"
    else:
        s = quality(result, student)["cosine_mean"]
        s_map, c_map, t_map = (quality(result, v)["topic_map"] for v in (student, control, teacher))
        beats = s_map > c_map
        figures_en = (
            f"mean cosine to the teacher {s:.4f}; topic retrieval MAP {s_map:.3f} "
            f"(teacher {t_map:.3f}, the same layers copied without training {c_map:.3f})"
        )
        figures_zh = (
            f"与教师的平均余弦 {s:.4f};按主题检索的 MAP {s_map:.3f}"
            f"(教师 {t_map:.3f},未经训练直接复制相同层的对照 {c_map:.3f})"
        )
        name_en, name_zh = "MiniLM", "MiniLM"
    other = _best_other(results, workload, largest)
    flags = {
        "faster": fast >= SPEEDUP_BAR,
        "keeps": keeps,
        "beats": beats,
        "others_gain_more": other is not None and other[0] > fast,
    }
    if other is None:
        other_en = "no pruned or factorised variant keeps quality by the same rule at this point"
        other_zh = "在该测量点上没有满足同一质量规则的修剪或低秩变体"
    else:
        other_en = (
            f"the fastest pruned or factorised variant within the same rule, {other[1]}, is {other[0]:.2f}×"
        )
        other_zh = f"满足同一规则的最快修剪或低秩变体 {other[1]} 为 {other[0]:.2f}×"
    fraction = info(result, student)["params_fraction"]
    evidence_en = (
        f"{name_en}: `{student}` is {fast:.2f}× the teacher's speed at {where}, has {fraction:.0%} of its "
        f"parameters, {figures_en}; {other_en}; training took {trained:.1f} s{cached_en}."
    )
    evidence_zh = (
        f"{name_zh}:`{student}` 在{where_zh} 时速度为教师的 {fast:.2f} 倍,参数量为教师的 {fraction:.0%},"
        f"{figures_zh};{other_zh};训练耗时 {trained:.1f} 秒{cached_zh}。"
    )
    return flags, evidence_en, evidence_zh


def judge_t5(results: dict[str, Any]) -> Finding:
    """Exactly the rule of the T5 verdict below."""
    judged = [_judge_one(results, exp, s, c, t) for exp, s, c, t in JUDGED]
    if all(all(flags.values()) for flags, _, _ in judged):
        outcome = "holds"
    elif not any(flags["faster"] and flags["keeps"] for flags, _, _ in judged):
        outcome = "does-not-hold"
    else:
        outcome = "partly"
    return Finding(outcome, " ".join(e for _, e, _ in judged), "".join(z for _, _, z in judged))


VERDICTS = [
    Verdict(
        claim="T5",
        experiments=tuple(exp for exp, *_ in JUDGED)
        + tuple(e for pair in OTHER_COMPRESSION.values() for e in pair),
        rule=(
            "For each workload take the main distilled student (digits CNN: width 4; MiniLM: 3 layers) "
            f"and check four things at the largest batch measured: (a) it is at least {SPEEDUP_BAR}× as "
            "fast as its teacher; (b) it keeps quality: digits test accuracy at most "
            f"{ACCURACY_DROP_MAX * 100:.0f} point below the teacher's, MiniLM mean cosine to the teacher's "
            f"embeddings at least {COSINE_MIN}; (c) it beats its control: on digits a same-size student "
            "trained on the labels without the teacher (higher test accuracy); on MiniLM, where no labels "
            "exist to train without a teacher, the same layers copied without training (higher mean "
            "average precision at retrieving each sentence's topic mates); (d) the article's drawback, "
            "'the gain may not match other compression methods': some pruned or low-rank variant that "
            "keeps quality by (b) is faster than the student at the same point. Holds if all four hold on "
            "both workloads; does not hold if no student meets both (a) and (b); partly otherwise. The "
            "training cost is reported, not judged."
        ),
        rule_zh=(
            "每个工作负载取主要的蒸馏学生模型(Digits CNN:宽度 4;MiniLM:3 层),在测得的最大批量下检查四点:"
            f"(a)速度至少是教师模型的 {SPEEDUP_BAR} 倍;"
            f"(b)保持质量:Digits 测试准确率比教师低不超过 {ACCURACY_DROP_MAX * 100:.0f} 个百分点,"
            f"MiniLM 与教师嵌入的平均余弦不低于 {COSINE_MIN};"
            "(c)优于对照:Digits 上是不借助教师、只用标签训练的同尺寸学生模型(测试准确率更高);"
            "MiniLM 没有可以脱离教师来训练的标签,对照是未经训练直接复制的相同层"
            "(按主题检索同主题句子的平均精度均值更高);"
            "(d)原文所说的缺点「提升可能不如其他压缩方法」:在同一测量点上,有按(b)保持质量的修剪或低秩变体比学生模型更快。"
            "两个工作负载上四点全部满足则成立;没有任何学生模型同时满足(a)和(b)则不成立;其余情况为部分成立。"
            "训练开销只报告,不参与判定。"
        ),
        judge=judge_t5,
    )
]
