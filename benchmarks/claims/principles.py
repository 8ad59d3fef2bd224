"""The principles page's rules (C2, C4, C5) and two of the methods page's (C8, C9), judged on
stored results: threads, SIMD width, memory layout, model size and pretrained models."""

from __future__ import annotations

from typing import Any

from benchmarks.claims import Finding, Verdict, info, quality, speedup

THREAD_EFFICIENCY = 0.75  # n threads must give at least 0.75·n× to "greatly improve" speed
MATTERS = 1.2  # a lever "matters" when it changes latency by at least this factor


def _thread_gains(results: dict[str, Any]) -> dict[str, tuple[int, float, dict, float, dict]]:
    """Per workload: most threads n, best speedup and its point, worst speedup and its point."""
    gains = {}
    for exp in ("threads/minilm", "threads/digits-cnn"):
        result = results[exp]
        most = max(result.variants, key=lambda v: info(result, v)["threads_requested"])
        n = info(result, most)["threads_requested"]
        pairs = [(entry["params"], speedup(result, most, **entry["params"])) for entry in result.points]
        best = max(pairs, key=lambda p: p[1])
        worst = min(pairs, key=lambda p: p[1])
        gains[result.config["workload"]] = (n, best[1], best[0], worst[1], worst[0])
    return gains


def _params(params: dict[str, int], lang: str = "en") -> str:
    names = {"en": {"batch": "batch", "seq_len": "seq"}, "zh": {"batch": "批大小", "seq_len": "序列"}}[lang]
    return ("、" if lang == "zh" else ", ").join(f"{names.get(k, k)} {v}" for k, v in params.items())


def _judge_c2(results: dict[str, Any]) -> Finding:
    gains = _thread_gains(results)
    ok = {w: g[1] >= THREAD_EFFICIENCY * g[0] for w, g in gains.items()}
    some = {w: g[1] >= 1.1 for w, g in gains.items()}
    if all(ok.values()):
        outcome = "holds"
    elif any(ok.values()) or all(some.values()):
        outcome = "partly"
    else:
        outcome = "does-not-hold"
    en = "; ".join(
        f"{w}: {n} threads give at best {b:.2f}× over 1 thread ({_params(bp)}), "
        f"at worst {lo:.2f}× ({_params(lp)})"
        for w, (n, b, bp, lo, lp) in gains.items()
    )
    zh = ";".join(
        f"{w}:{n} 个线程相对 1 个线程最好 {b:.2f}×({_params(bp, 'zh')}),最差 {lo:.2f}×({_params(lp, 'zh')})"
        for w, (n, b, bp, lo, lp) in gains.items()
    )
    threads = max(g[0] for g in gains.values())
    en += f". With at most {threads} threads, the ideal gain from cores alone is {threads}×."
    zh += f"。最多用 {threads} 个线程时,仅靠核心数的理想提升是 {threads}×。"
    return Finding(outcome, en, zh)


def _simd_gains(results: dict[str, Any]) -> dict[str, tuple[float, dict, int, int]]:
    """Per workload: best slowdown of the 128-bit cap against native, its point, and the two widths."""
    gains = {}
    for exp in ("isa/minilm", "isa/digits-cnn"):
        result = results[exp]
        pairs = [
            (entry["params"], 1.0 / speedup(result, "isa-sse", **entry["params"])) for entry in result.points
        ]
        best = max(pairs, key=lambda p: p[1])
        wide = info(result, "isa-native")["simd_bits"]
        narrow = info(result, "isa-sse")["simd_bits"]
        gains[result.config["workload"]] = (best[1], best[0], wide, narrow)
    return gains


def _judge_c4(results: dict[str, Any]) -> Finding:
    cores = _thread_gains(results)
    simd = _simd_gains(results)
    core_matters = any(g[1] >= MATTERS for g in cores.values())
    simd_matters = any(g[0] >= MATTERS for g in simd.values())
    if core_matters and simd_matters:
        outcome = "partly"
    elif core_matters:
        outcome = "holds"
    elif simd_matters:
        outcome = "does-not-hold"
    else:
        outcome = "not-measurable"
    en_parts, zh_parts = [], []
    for w in simd:
        s, sp, wide, narrow = simd[w]
        n, c, cp = cores[w][0], cores[w][1], cores[w][2]
        en_parts.append(
            f"{w}: {wide}-bit vectors run it at up to {s:.2f}× the speed of {narrow}-bit ones "
            f"({_params(sp)}); {n} threads instead of 1 at up to {c:.2f}× ({_params(cp)})"
        )
        zh_parts.append(
            f"{w}:{wide} 位向量的速度最多是 {narrow} 位的 {s:.2f}×({_params(sp, 'zh')});"
            f"{n} 个线程的速度最多是 1 个线程的 {c:.2f}×({_params(cp, 'zh')})"
        )
    return Finding(outcome, "; ".join(en_parts) + ".", ";".join(zh_parts) + "。")


LAYOUT_GAIN = 1.1
SIZE_GAIN = 1.2


def _judge_c5(results: dict[str, Any]) -> Finding:
    en, zh, gains = [], [], []
    for exp in ("layout/resnet50", "layout/digits-cnn"):
        result = results[exp]
        workload = result.config["workload"]
        pairs = [(e["params"], speedup(result, "channels-last", **e["params"])) for e in result.points]
        gains += [s for _, s in pairs]
        memory = {
            v: result.variants[v].get("memory", {}).get("peak_rss_mb", float("nan")) for v in result.variants
        }
        diff = info(result, "channels-last")["max_abs_diff_vs_contiguous"]
        speeds = ", ".join(f"{s:.2f}× ({_params(pp)})" for pp, s in pairs)
        speeds_zh = ",".join(f"{s:.2f}×({_params(pp, 'zh')})" for pp, s in pairs)
        mem = ", ".join(f"{v} {m:.0f} MB" for v, m in memory.items())
        en.append(
            f"{workload}: channels_last {speeds}; peak memory {mem}; largest output difference {diff:.1g}"
        )
        zh.append(f"{workload}:channels_last {speeds_zh};峰值内存 {mem};输出最大差异 {diff:.1g}")
    if all(g >= LAYOUT_GAIN for g in gains):
        outcome = "holds"
    elif any(g >= LAYOUT_GAIN for g in gains):
        outcome = "partly"
    else:
        outcome = "does-not-hold"
    return Finding(outcome, "; ".join(en) + ".", ";".join(zh) + "。")


def _judge_c8(results: dict[str, Any]) -> Finding:
    from benchmarks.workloads import digits_cnn

    result = results["model-size/digits-cnn"]
    base = info(result, "pytorch-eager")
    base_quality = quality(result, "pytorch-eager")
    rows = []
    for name in result.variants:
        if name == "pytorch-eager" or info(result, name)["params"] >= base["params"]:
            continue
        best = max(speedup(result, name, **e["params"]) for e in result.points)
        within = digits_cnn.meets_bar(quality(result, name), base_quality)
        rows.append((name, info(result, name), best, quality(result, name)["accuracy"], within))
    wins = [r for r in rows if r[2] >= SIZE_GAIN and r[4]]
    faster = [r for r in rows if r[2] >= SIZE_GAIN]
    outcome = "holds" if wins else "partly" if faster or any(r[4] for r in rows) else "does-not-hold"
    head_en = f"baseline: {base['params']:,} parameters, test accuracy {base_quality['accuracy']:.1%}"
    head_zh = f"基线:{base['params']:,} 个参数,测试准确率 {base_quality['accuracy']:.1%}"
    en = "; ".join(
        f"{n}: {i['params']:,} parameters, {i['flops_per_image'] / 1e3:.0f} kFLOP/image, "
        f"best {s:.2f}×, accuracy {a:.1%}{'' if ok else ' (below the bar)'}"
        for n, i, s, a, ok in rows
    )
    zh = ";".join(
        f"{n}:{i['params']:,} 个参数,每张图 {i['flops_per_image'] / 1e3:.0f} kFLOP,"
        f"最快 {s:.2f}×,准确率 {a:.1%}{'' if ok else '(低于门槛)'}"
        for n, i, s, a, ok in rows
    )
    return Finding(outcome, f"{head_en}; {en}.", f"{head_zh};{zh}。")


def steps_to(
    curve: list[tuple[int, float, float, float]], target: float, column: int = 2
) -> tuple[int, float]:
    """First (step, seconds) at which the recorded accuracy reaches ``target``."""
    for row in curve:
        if row[column] >= target - 1e-12:
            return row[0], row[1]
    raise ValueError(f"accuracy {target} never reached")


def _judge_c9(results: dict[str, Any]) -> Finding:
    result = results["pretrained/digits-cnn"]
    scratch, tuned = info(result, "scratch"), info(result, "pretrained")
    target = min(scratch["final_test_accuracy"], tuned["final_test_accuracy"])
    s_steps, s_time = steps_to(scratch["curve"], target)
    t_steps, t_time = steps_to(tuned["curve"], target)
    ends_higher = tuned["final_test_accuracy"] >= scratch["final_test_accuracy"]
    if t_steps <= s_steps / 2 and ends_higher:
        outcome = "holds"
    elif t_steps < s_steps or tuned["final_test_accuracy"] > scratch["final_test_accuracy"]:
        outcome = "partly"
    else:
        outcome = "does-not-hold"
    en = (
        f"both reach {target:.1%} test accuracy (all ten digits): from scratch after {s_steps} steps "
        f"({s_time:.2f} s of training), pretrained after {t_steps} steps ({t_time:.2f} s); after "
        f"{scratch['steps']} steps they end at {scratch['final_test_accuracy']:.1%} (scratch) and "
        f"{tuned['final_test_accuracy']:.1%} (pretrained); on the new digits 5-9 alone, "
        f"{scratch['final_test_accuracy_new_digits']:.1%} and {tuned['final_test_accuracy_new_digits']:.1%}"
    )
    zh = (
        f"两者都达到 {target:.1%} 的测试准确率(全部十个数字):从零训练用了 {s_steps} 步(训练 {s_time:.2f} 秒),"
        f"预训练模型用了 {t_steps} 步({t_time:.2f} 秒);训练 {scratch['steps']} 步后,最终准确率分别为 "
        f"{scratch['final_test_accuracy']:.1%}(从零)和 {tuned['final_test_accuracy']:.1%}(预训练);"
        f"只看新数字 5-9,分别为 {scratch['final_test_accuracy_new_digits']:.1%} 和 "
        f"{tuned['final_test_accuracy_new_digits']:.1%}"
    )
    return Finding(outcome, en + ".", zh + "。")


VERDICTS = [
    Verdict(
        claim="C2",
        experiments=("threads/minilm", "threads/digits-cnn"),
        rule=(
            "For each workload, take the best paired speedup of the most threads (n) over 1 thread "
            f"across the measured points. Holds if it reaches {THREAD_EFFICIENCY}·n× on every workload "
            f"({THREAD_EFFICIENCY * 2}× with 2 threads); partly if it does on some workload, or reaches "
            "1.1× on every workload; does not hold otherwise."
        ),
        rule_zh=(
            "对每个工作负载,取各测量点上最多线程数(n)相对 1 个线程的最佳成对加速比。若每个工作负载都达到 "
            f"{THREAD_EFFICIENCY}·n×(2 个线程即 {THREAD_EFFICIENCY * 2}×),则成立;若只有部分工作负载达到,"
            "或每个工作负载都至少达到 1.1×,则部分成立;否则不成立。"
        ),
        judge=_judge_c2,
    ),
    Verdict(
        claim="C4",
        experiments=("isa/minilm", "isa/digits-cnn", "threads/minilm", "threads/digits-cnn"),
        rule=(
            "Two levers are measured apart: SIMD width (the widest vectors of this CPU against a "
            "128-bit SSE4 cap, best slowdown of the cap over the points) and core count (C2's best "
            "speedup of all cores over one). A lever matters if it changes latency by at least "
            f"{MATTERS}× on some workload. The article credits multi-core alone: holds if only cores "
            "matter; partly if both matter; does not hold if only SIMD width matters; not measurable "
            "if neither does."
        ),
        rule_zh=(
            "分别测量两个因素:SIMD 宽度(本机最宽向量指令与 128 位 SSE4 上限相比,"
            "取各测量点上限制带来的最大减速)"
            f"和核心数(C2 中全部核心相对单核的最佳加速比)。某个因素在任一工作负载上使延迟变化至少 {MATTERS}×,"
            "即视为起作用。原文把它归功于多核:只有核心数起作用则成立;两者都起作用则部分成立;"
            "只有 SIMD 宽度起作用则不成立;两者都不起作用则无法判定。"
        ),
        judge=_judge_c4,
    ),
    Verdict(
        claim="C5",
        experiments=("layout/resnet50", "layout/digits-cnn"),
        rule=(
            "Judged here for memory layout only. The claim's other half, inputs and outputs bound "
            "once (IO binding), has no verdict of its own: the ONNX Runtime page measures it as the "
            "variant `ort-all-io-binding` of the digits CNN, in its tables and among the configurations "
            "T1 weighs. Layout: channels_last weights, with the NCHW input reordered inside every "
            f"call, against contiguous NCHW. Holds if channels_last is at least {LAYOUT_GAIN}× faster "
            "(paired median) at every measured point of both CNNs; partly if at some point; does not "
            "hold if at none. Peak memory of every variant is shown with it."
        ),
        rule_zh=(
            "这里只判定内存布局。论断的另一半,即输入输出只绑定一次(IO binding),没有单独的判定:"
            "ONNX Runtime 页面把它作为手写数字 CNN 的变体 `ort-all-io-binding` 测量,列在该页表格中,"
            "并计入 T1 比较的各配置。内存布局:channels_last 权重、"
            "每次调用时把 NCHW 输入重排,与连续 NCHW 相比。若在两个 CNN 的每个测量点上 channels_last "
            f"都快至少 {LAYOUT_GAIN}×(成对中位数),则成立;只在部分测量点做到则部分成立;都做不到则不成立。"
            "同时列出每个变体的峰值内存。"
        ),
        judge=_judge_c5,
    ),
    Verdict(
        claim="C8",
        experiments=("model-size/digits-cnn",),
        rule=(
            "Among the swept networks with fewer parameters than the workload's own, holds if one is at "
            f"least {SIZE_GAIN}× faster at some measured point while meeting the workload's quality bar "
            "(test accuracy at most 1 point below); partly if smaller networks are that much faster only "
            "below the bar, or meet the bar without being that much faster; does not hold otherwise."
        ),
        rule_zh=(
            f"在参数比工作负载自带网络少的各个网络中,若有一个在某个测量点上快至少 {SIZE_GAIN}× 且满足质量门槛"
            "(测试准确率最多低 1 个百分点),则成立;若更小的网络只有在低于门槛时才这么快,或满足门槛却没这么快,"
            "则部分成立;否则不成立。"
        ),
        judge=_judge_c8,
    ),
    Verdict(
        claim="C9",
        experiments=("pretrained/digits-cnn",),
        rule=(
            "Both networks train for the same number of full-batch steps on the same 10 labelled images per "
            "digit; the target is the lower of their two final test accuracies. Holds if the pretrained "
            "network reaches the target in at most half the steps and ends at least as accurate; partly if "
            "it needs fewer steps or ends more accurate; does not hold otherwise."
        ),
        rule_zh=(
            "两个网络用同样的每个数字 10 张标注图片、同样步数的全批量训练;"
            "目标取两者最终测试准确率中较低的那个。"
            "若预训练网络达到目标所需步数不超过从零训练的一半,且最终准确率不低于后者,则成立;若只是步数更少或"
            "最终更准,则部分成立;否则不成立。"
        ),
        judge=_judge_c9,
    ),
]
