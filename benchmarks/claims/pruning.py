"""The pruning page's rule (T3): does removing weights give a faster model within the quality bound?"""

from __future__ import annotations

from typing import Any

from benchmarks.claims import Finding, Verdict, margin_text, quality, side_of, speedup, speedup_entry

STRUCTURED = ("channels", "ffn-neurons")
MIN_SPEEDUP = 1.2
MAX_ACCURACY_DROP = 0.01  # digits-cnn: one percentage point of test accuracy
MIN_COSINE = 0.95  # MiniLM: mean cosine of embeddings to the unpruned model's


def _within_bound(result: Any, name: str) -> tuple[bool, str, str]:
    """Whether a variant keeps the quality bound, and the figure that says so (en, zh)."""
    got, base = quality(result, name), quality(result, result.config["baseline"])
    if "accuracy" in got:
        text = f"{got['accuracy']:.1%} vs {base['accuracy']:.1%}"
        return got["accuracy"] >= base["accuracy"] - MAX_ACCURACY_DROP, f"accuracy {text}", f"准确率 {text}"
    text = f"{got['cosine_mean']:.3f}"
    return got["cosine_mean"] >= MIN_COSINE, f"cosine {text}", f"余弦 {text}"


def _where(params: dict[str, int], lang: str) -> str:
    names = {"batch": "批大小", "seq_len": "序列长度", "image_size": "图像边长"} if lang == "zh" else {}
    return ", ".join(f"{names.get(k, k)} {v}" for k, v in params.items())


def _batch1(result: Any, name: str) -> tuple[float, dict[str, int]] | None:
    """The best median paired speedup over the batch-1 points, and where."""
    found = [
        (speedup(result, name, **e["params"]), e["params"])
        for e in result.points
        if e["params"]["batch"] == 1
    ]
    return max(found, key=lambda pair: pair[0]) if found else None


def _all_points(result: Any, name: str, lang: str) -> str:
    """Median paired speedup at every measured point: '1.05× (batch 1), 2.10× (batch 256)'."""
    parts = [(speedup(result, name, **e["params"]), _where(e["params"], lang)) for e in result.points]
    if lang == "zh":
        return ",".join(f"{figure:.2f}×({where})" for figure, where in parts)
    return ", ".join(f"{figure:.2f}× ({where})" for figure, where in parts)


def _count(n: float) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.0f}"


def _size(record: dict[str, Any]) -> tuple[str, str]:
    params, params_before = _count(record["nonzero_params"]), _count(record["params_unpruned"])
    flops, flops_before = _count(record["flops"]), _count(record["flops_unpruned"])
    return (
        f"non-zero params {params} (unpruned {params_before}), FLOPs {flops} (unpruned {flops_before})",
        f"非零参数 {params}(未修剪 {params_before}),FLOPs {flops}(未修剪 {flops_before})",
    )


def judge_t3(results: dict[str, Any]) -> Finding:
    best: tuple[dict[str, Any], str, str] | None = None  # paired speedup of the fastest qualifying variant
    en, zh = [], []
    sparse_en, sparse_zh, sparse_speed = [], [], []
    for exp in ("pruning/digits-cnn", "pruning/minilm", "pruning/resnet50"):
        result = results[exp]
        workload = result.config["workload"]
        for name, variant in result.variants.items():
            if name == result.config["baseline"]:
                continue
            record = variant["info"]
            smaller = (
                record["nonzero_params"] < record["params_unpruned"]
                or record["flops"] < record["flops_unpruned"]
            )
            at_b1 = _batch1(result, name)
            if at_b1 is None:
                continue
            figure = at_b1[0]
            size_en, size_zh = _size(record)
            all_en, all_zh = _all_points(result, name, "en"), _all_points(result, name, "zh")
            if workload == "resnet50":  # random weights: latency only, never a quality figure
                en.append(f"{workload} `{name}` {all_en} (random weights; {size_en})")
                zh.append(f"{workload} `{name}` {all_zh}(随机权重;{size_zh})")
                continue
            ok, q_en, q_zh = _within_bound(result, name)
            if record["method"] == "unstructured":
                sparse_speed.append(figure)
                sparse, dense = f"{record['model_sparse_mb']:.3g} MB", f"{record['model_mb']:.3g} MB"
                sparse_en.append(
                    f"{workload} `{name}` {figure:.2f}× ({q_en}; stored sparse {sparse}, dense {dense})"
                )
                sparse_zh.append(f"{workload} `{name}` {figure:.2f}×({q_zh};稀疏存储 {sparse},稠密 {dense})")
                continue
            mark_en, mark_zh = ("within", "满足") if ok else ("outside", "不满足")
            en.append(f"{workload} `{name}` {all_en} ({q_en}, {mark_en} the bound; {size_en})")
            zh.append(f"{workload} `{name}` {all_zh}({q_zh},{mark_zh}质量门槛;{size_zh})")
            if ok and smaller:
                entry = speedup_entry(result, name, **at_b1[1])
                if best is None or entry["median"] > best[0]["median"]:
                    best = (
                        entry,
                        f"{workload} `{name}` ({_where(at_b1[1], 'en')})",
                        f"{workload} `{name}`({_where(at_b1[1], 'zh')})",
                    )
    if sparse_speed:
        span = f"{min(sparse_speed):.2f}×–{max(sparse_speed):.2f}×"
        en.append(
            f"unstructured variants at batch 1: {span}, with unchanged dense FLOPs: " + ", ".join(sparse_en)
        )
        zh.append(f"非结构化变体在批大小 1 时为 {span},稠密 FLOPs 不变:" + ",".join(sparse_zh))
    # The claim's point is "less compute, so faster": shrinking the parameter count alone is
    # true of every pruned model by construction and decides nothing.
    if best is None:
        outcome = "does-not-hold"
        decide_en, decide_zh = (
            "no structured variant stays within the quality bound",
            "没有结构化变体满足质量门槛",
        )
    else:
        entry, where, where_zh = best
        side, faster = side_of(entry, MIN_SPEEDUP), side_of(entry, 1.0)
        # Whenever the interval straddles a threshold of the rule, the measurement cannot say
        # which side the claim falls on.
        outcome = (
            "holds"
            if side == "above"
            else "inconclusive"
            if "straddles" in (side, faster)
            else "partly"
            if faster == "above"
            else "does-not-hold"
        )
        decide_en = f"deciding: {where} {margin_text(entry, MIN_SPEEDUP)}"
        decide_zh = f"决定判定的是 {where_zh} {margin_text(entry, MIN_SPEEDUP, 'zh')}"
    return Finding(outcome, decide_en + "; " + "; ".join(en) + ".", decide_zh + ";" + ";".join(zh) + "。")


VERDICTS = [
    Verdict(
        claim="T3",
        experiments=("pruning/digits-cnn", "pruning/minilm", "pruning/resnet50"),
        rule=(
            "Take the structured variant (whole channels or neurons removed) with the highest median "
            "paired speedup over PyTorch eager at batch 1 on digits-cnn or MiniLM among those within the "
            f"quality bound (digits-cnn: test accuracy at most {MAX_ACCURACY_DROP * 100:.0f} percentage "
            f"point below eager; MiniLM: mean cosine to eager at least {MIN_COSINE}) and with fewer "
            f"non-zero parameters or FLOPs. Holds if its interval lies at or above {MIN_SPEEDUP}×; "
            "partly if it lies below that but above 1× (faster, not by as much); does not hold if it lies "
            "below 1×, or if no structured variant stays within the bound; inconclusive if the interval "
            f"straddles {MIN_SPEEDUP}× or 1×. Fewer parameters alone decide nothing: every pruned model has "
            "them. ResNet-50 (random weights) and unstructured variants are reported but do not decide; "
            "the evidence states the unstructured speedup."
        ),
        rule_zh=(
            "在 digits-cnn 或 MiniLM 上,从满足质量门槛"
            f"(digits-cnn:测试准确率比 eager 低不超过 {MAX_ACCURACY_DROP * 100:.0f} 个百分点;"
            f"MiniLM:与 eager 的平均余弦相似度至少 {MIN_COSINE})且非零参数或 FLOPs 更少的结构化变体"
            "(删除整个通道或神经元)中,取批大小 1 时相对 PyTorch eager 成对加速比中位数最高的一个。"
            f"若其区间不低于 {MIN_SPEEDUP}×,则成立;区间低于它但高于 1×(更快,但幅度不够)则部分成立;"
            "区间低于 1×,或没有结构化变体满足质量门槛,则不成立;"
            f"区间跨过 {MIN_SPEEDUP}× 或 1× 则在本机上无法判定。"
            "仅仅参数变少不能决定判定:每个修剪后的模型都是如此。"
            "ResNet-50(随机权重)和非结构化变体只作报告、不参与判定;证据中给出非结构化修剪的加速比。"
        ),
        judge=judge_t3,
    )
]
