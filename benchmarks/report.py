"""Render stored results as Markdown tables and plotly charts, in English or Chinese.

Reads JSON only (pandas and plotly, never torch), so the site builds fast and a
page can only show numbers that a run wrote.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from benchmarks import results as results_mod
from benchmarks.experiments import all_experiments
from benchmarks.results import ExperimentResult

MARKER = re.compile(r"<!--\s*bench:(?P<kind>[a-z-]+)(?:\s+(?P<arg>[^\s>]+))?\s*-->")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "noisy": "⚠ noisy: the median varied by more than {threshold} between rounds{repeats}",
        "noisy_repeats": ", even after {n} repeat(s)",
        "this_build": "this build",
        "release": "release",
        "no_archive": "No earlier release archived here",
        "no_archive_body": "Release builds download the results of earlier releases into `archive/`; "
        "this build found none, so only its own figures are shown.",
        "not_measured": "Not measured in this build",
        "not_measured_body": "No results for `{exp}` were written by this build. Run `make site`, or "
        "`python -m benchmarks run {exp}`, then rebuild.",
        "failed": "This experiment failed",
        "failed_body": "The run of `{exp}` on {date} failed: {reason}",
        "latest_failed": "The latest run failed; the figures below come from the last good run",
        "latest_skipped": "The latest run was skipped; the figures below come from the last good run",
        "skipped": "Skipped on this machine",
        "skipped_body": "`{exp}` was skipped: {reason}",
        "variant": "variant",
        "p50": "p50 (ms)",
        "p90": "p90 (ms)",
        "p99": "p99 (ms)",
        "cv": "CV",
        "throughput": "items/s",
        "speedup": "speedup vs baseline [interval, level]",
        "speedup_level": "speedup vs baseline [{level} interval]",
        "interval_note": "Speedup: the median over rounds of (baseline's median call ÷ candidate's median "
        "call in the same round); the interval is the order-statistic interval of that median, with its "
        "exact level for the number of rounds.",
        "calls": "calls (n)",
        "no_repeats": "No configuration was timed twice",
        "no_repeats_body": "This build timed no configuration (workload, variant, options, point, threads) "
        "in more than one experiment, so it cannot say how well it agrees with itself.",
        "consistency_lead": "This build timed {n} configurations in more than one experiment. Their p50 "
        "differed across experiments by a median of **{median:.1%}** (slowest over fastest, minus one); "
        "the largest spread, {worst:.1%}, is {label} on {workload} at {point}. These p50s were taken "
        "minutes apart, so the spread also includes how far the machine's speed drifted meanwhile.",
        "consistency_speedups": "The paired speedups over PyTorch eager FP32, each timed in the same rounds "
        "as its baseline, differed across experiments by a median of **{median:.1%}** ({n} configurations; "
        "largest {worst:.1%}, {label} on {workload} at {point}). Verdicts compare such speedups, so a "
        "difference between two of them smaller than this median is within what this build cannot resolve.",
        "consistency_no_speedups": "No configuration has a paired speedup in two experiments, so the p50 "
        "spread above is also the resolution verdicts are read against.",
        "p50_by_experiment": "p50 (ms) in each experiment",
        "speedup_by_experiment": "speedup over eager in each experiment",
        "spread": "spread",
        "candidates": "candidates",
        "candidates_n": "{within} within the bar, of {total}",
        "runner_up": "runner-up",
        "runner_up_text": "{label} (`{exp}`) {speed}, {gap:.1%} behind",
        "intervals_overlap": "; the intervals overlap",
        "within_spread": "; a gap smaller than this build's own spread "
        "({spread:.1%}, see [Methodology](methodology.md#consistency))",
        "headline_note": "The winner is the fastest of the candidates counted beside it: the largest of many "
        "noisy figures tends to be an overestimate, so read it with the runner-up next to it.",
        "ci": "interval",
        "figure_too_few_calls": "(no {metric}: {n} calls measured, {need} needed)",
        "speedup_plain": "speedup vs baseline (median of per-round ratios)",
        "too_few_calls": "– (n={n} < {need})",
        "baseline": "baseline",
        "batch": "batch",
        "seq_len": "seq",
        "quality": "quality",
        "one_time": "one-time cost",
        "what_ran": "what ran",
        "peak_mem": "peak memory (MB)",
        "latency_axis": "p50 latency (ms), bar to p90 where ≥ {need} calls",
        "speedup_axis": "speedup over PyTorch eager (median of per-round ratios)",
        "speedup_axis_level": "speedup over the baseline (median of per-round ratios), "
        "bars: {level} interval",
        "point": "point",
        "machine": "Machine",
        "cpu": "CPU",
        "isa": "ISA features",
        "cores": "logical cores",
        "memory": "memory (GiB)",
        "os": "OS",
        "python": "Python",
        "packages": "packages",
        "commit": "commit",
        "date": "measured on",
        "threads": "threads",
        "profile": "profile",
        "experiments": "experiments",
        "samples": "samples",
        "accuracy": "test accuracy",
        "agreement_with_fp32": "agreement with FP32",
        "cosine_mean": "mean cosine to FP32",
        "cosine_min": "min cosine to FP32",
        "nn_top1_agreement": "top-1 neighbour agreement",
        "nn_top10_overlap": "top-10 neighbour overlap",
        "top1_agreement": "top-1 agreement with FP32",
        "topic_p1": "topic precision@1",
        "topic_map": "topic MAP",
        "topic_map_fp32": "FP32's topic MAP",
        "topic_map_ratio": "topic MAP, share of FP32's",
        "claim": "Claim {claim}",
        "rule": "Rule",
        "verdict": "Verdict",
        "evidence": "Evidence",
        "holds": "holds",
        "partly": "partly holds",
        "does-not-hold": "does not hold",
        "not-measurable": "not measurable here",
        "inconclusive": "inconclusive on this machine",
        "verdict_missing": "Verdict pending: {missing} not measured (or not ok) in this build.",
        "verdict_outdated": "Verdict pending: the stored results of {missing} were written by older "
        "pipelines and lack a figure this rule reads ({field}). Run `python -m benchmarks run` again.",
        "verdict_skipped": "{exp} was skipped on this machine: {reason}",
        "workload": "workload",
        "technique": "technique",
        "best_variant": "fastest variant within the quality bar",
        "quality_bar": "quality bar",
        "at_point": "measured at",
        "eager_p50": "PyTorch eager p50 (ms)",
        "variant_p50": "variant p50 (ms)",
        "none_within_bar": "none of the measured variants meets the bar",
        "size_change": "model size vs eager",
        "verdict_col": "verdict on the article's row",
        "best_speedup": "best speedup within the quality bar",
        "fastest_overall": "fastest overall (quality bar ignored)",
        "downloads": "Download this page's results",
        "downloads_body": "Every figure above comes from these files, written by this build:",
        "tradeoff_x": "p50 latency at {point} (ms, log scale)",
        "figure_missing": "(not measured in this build)",
        "gap_step": "step",
        "gap_compared": "compared (variant / variant)",
        "gap_factor": "speed factor",
        "gap_total": "ONNX Runtime, all graph optimisations, over PyTorch eager",
        "gap_kernels": "kernels and runtime, no graph optimisation (ONNX Runtime's MLAS and executor against "
        "PyTorch's maths libraries, op by op)",
        "gap_fusions": "graph optimisations (fusions, constant folding, layouts)",
        "gap_export": "the export kept over the other exporter (the short timing that chose it; no interval)",
        "gap_tuning": "this site's tuning (export kept, tuned session) over ONNX Runtime's defaults on the "
        "default export",
        "gap_largest": "At {point}, the largest of the first three factors on this machine is **{step}**: "
        "{factor} ({direction}).",
        "gap_none": "The experiments that split this difference (`onnxruntime-levels/{w}`, "
        "`onnxruntime/{w}`) have no results in this build.",
        "figure_missing_point": "(not measured at {point} in this build's {profile} profile)",
        "warmup_iters": "warm-up calls (at least)",
        "warmup_s": "warm-up time (s, at least)",
        "min_iters": "calls per round (at least)",
        "min_s": "round duration (s, at least)",
        "reference_min_s": "round duration at the reference point (s, at least)",
        "round_warmup_s": "untimed calls at the start of each round (s)",
        "max_iters": "calls per round (at most)",
        "rounds": "paired rounds per point",
        "eval_limit": "evaluation examples",
        "noise_repeats": "repeats of a noisy point",
        "training_scale": "share of the MiniLM distillations' steps or epochs",
        "timeout_s": "time limit per experiment (s)",
        "all": "all",
        "duration": "wall time of its last run (s)",
        "status": "status",
        "total": "total",
        "claim_col": "claim",
        "page": "checked on",
        "faster": "faster",
        "slower": "slower",
        "no_direction": "neither clearly faster nor slower",
    },
    "zh": {
        "noisy": "⚠ 噪声大:{repeats}各轮中位数的变异系数仍高于 {threshold}",
        "noisy_repeats": "重测 {n} 次后,",
        "this_build": "本次构建",
        "release": "版本",
        "no_archive": "此处没有存档的早期版本",
        "no_archive_body": "发布构建会把早期版本的结果下载到 `archive/`;"
        "本次构建没有找到,因此只显示本次构建的数据。",
        "not_measured": "本次构建未测量",
        "not_measured_body": "本次构建没有写出 `{exp}` 的结果。请运行 `make site` 或 "
        "`python -m benchmarks run {exp}` 后重新构建。",
        "failed": "该实验失败",
        "failed_body": "`{exp}` 于 {date} 的运行失败:{reason}",
        "latest_failed": "最近一次运行失败;下列数据来自上一次成功的运行",
        "latest_skipped": "最近一次运行被跳过;下列数据来自上一次成功的运行",
        "skipped": "本机跳过",
        "skipped_body": "`{exp}` 已跳过:{reason}",
        "variant": "变体",
        "p50": "p50(毫秒)",
        "p90": "p90(毫秒)",
        "p99": "p99(毫秒)",
        "cv": "变异系数",
        "throughput": "每秒条数",
        "speedup": "相对基线加速比[区间,置信水平]",
        "speedup_level": "相对基线加速比[{level} 置信区间]",
        "interval_note": "加速比:各轮中(基线该轮中位调用时间 ÷ 候选同一轮中位调用时间)的中位数;"
        "区间是该中位数的次序统计量区间,其置信水平按轮数精确计算。",
        "calls": "调用次数(n)",
        "no_repeats": "没有配置被测量两次",
        "no_repeats_body": "本次构建没有在多个实验中测量同一配置(工作负载、变体、选项、测量点、线程数),"
        "因此无法说明它与自身的一致程度。",
        "consistency_lead": "本次构建在多个实验中测量了 {n} 个相同配置。"
        "它们的 p50 在各实验之间的差异中位数为 **{median:.1%}**(最慢除以最快再减一);"
        "差异最大的是{label}在 {workload}、{point} 上,为 {worst:.1%}。"
        "这些 p50 相隔数分钟测得,所以差异里也包含了这段时间机器速度的漂移。",
        "consistency_speedups": "相对 PyTorch eager FP32 的成对加速比(每个都与其基线在同样的轮次中计时)"
        "在各实验之间的差异中位数为 **{median:.1%}**(共 {n} 个配置;最大为 {worst:.1%},"
        "是{label}在 {workload}、{point} 上)。判定比较的正是这类加速比,"
        "两个加速比的差距若小于这个中位数,本次构建就无法分辨。",
        "consistency_no_speedups": "没有哪个配置在两个实验中都有成对加速比,"
        "因此判定也以上面的 p50 差异作为分辨率。",
        "p50_by_experiment": "各实验中的 p50(毫秒)",
        "speedup_by_experiment": "各实验中相对 eager 的加速比",
        "spread": "差异",
        "candidates": "候选数",
        "candidates_n": "共 {total} 个,其中 {within} 个满足门槛",
        "runner_up": "第二名",
        "runner_up_text": "{label}(`{exp}`){speed},落后 {gap:.1%}",
        "intervals_overlap": ";两者区间重叠",
        "within_spread": ";差距小于本次构建自身的离散程度"
        "({spread:.1%},见[测量方法](methodology.md#consistency))",
        "headline_note": "胜者是同行所列候选中最快的一个:许多带噪声数字中的最大值往往偏高,"
        "因此请对照第二名来读。",
        "ci": "置信区间",
        "figure_too_few_calls": "(无 {metric}:只测了 {n} 次调用,需要 {need} 次)",
        "speedup_plain": "相对基线加速比(逐轮比值的中位数)",
        "too_few_calls": "–(n={n} < {need})",
        "baseline": "基线",
        "batch": "批大小",
        "seq_len": "序列",
        "quality": "质量",
        "one_time": "一次性开销",
        "what_ran": "实际运行配置",
        "peak_mem": "峰值内存(MB)",
        "latency_axis": "p50 延迟(毫秒),调用数 ≥ {need} 时误差线至 p90",
        "speedup_axis": "相对 PyTorch eager 的加速比(逐轮比值的中位数)",
        "speedup_axis_level": "相对基线的加速比(逐轮比值的中位数),误差线:{level} 置信区间",
        "point": "测量点",
        "machine": "机器",
        "cpu": "CPU",
        "isa": "指令集特性",
        "cores": "逻辑核心数",
        "memory": "内存(GiB)",
        "os": "操作系统",
        "python": "Python",
        "packages": "软件包",
        "commit": "提交",
        "date": "测量时间",
        "threads": "线程数",
        "profile": "配置档",
        "experiments": "实验",
        "samples": "样本数",
        "accuracy": "测试准确率",
        "agreement_with_fp32": "与 FP32 预测一致率",
        "cosine_mean": "与 FP32 的平均余弦相似度",
        "cosine_min": "与 FP32 的最小余弦相似度",
        "nn_top1_agreement": "最近邻 top-1 一致率",
        "nn_top10_overlap": "最近邻 top-10 重合率",
        "top1_agreement": "与 FP32 的 top-1 一致率",
        "topic_p1": "主题检索 precision@1",
        "topic_map": "主题检索 MAP",
        "topic_map_fp32": "FP32 的主题检索 MAP",
        "topic_map_ratio": "主题检索 MAP 占 FP32 的比例",
        "claim": "论断 {claim}",
        "rule": "判定规则",
        "verdict": "结论",
        "evidence": "依据",
        "holds": "成立",
        "partly": "部分成立",
        "does-not-hold": "不成立",
        "not-measurable": "本机无法测量",
        "inconclusive": "在本机上无法判定",
        "verdict_missing": "结论待定:本次构建没有 {missing} 的有效结果。",
        "verdict_outdated": "结论待定:{missing} 的已存结果由旧版流程写出,缺少本规则读取的数据({field})。"
        "请重新运行 `python -m benchmarks run`。",
        "verdict_skipped": "{exp} 在本机跳过:{reason}",
        "workload": "工作负载",
        "technique": "技术",
        "best_variant": "满足质量门槛的最快变体",
        "quality_bar": "质量门槛",
        "at_point": "测量点",
        "eager_p50": "PyTorch eager p50(毫秒)",
        "variant_p50": "该变体 p50(毫秒)",
        "none_within_bar": "所测变体均未达到质量门槛",
        "size_change": "模型大小(相对 eager)",
        "verdict_col": "对文章该行的结论",
        "best_speedup": "满足质量门槛的最佳加速比",
        "fastest_overall": "最快变体(不计质量门槛)",
        "downloads": "下载本页结果",
        "downloads_body": "上文所有数据都来自本次构建写出的以下文件:",
        "tradeoff_x": "{point} 的 p50 延迟(毫秒,对数坐标)",
        "figure_missing": "(本次构建未测量)",
        "gap_step": "环节",
        "gap_compared": "比较(变体 / 变体)",
        "gap_factor": "速度倍数",
        "gap_total": "ONNX Runtime(全部图优化)相对 PyTorch eager",
        "gap_kernels": "内核与运行时,不做图优化(ONNX Runtime 的 MLAS 与执行器对 PyTorch 的数学库,逐个算子)",
        "gap_fusions": "图优化(算子融合、常量折叠、数据布局)",
        "gap_export": "所选导出相对另一种导出器(选择导出时的短计时;无区间)",
        "gap_tuning": "本站的调优(所选导出、调优会话)相对默认导出上的 ONNX Runtime 默认设置",
        "gap_largest": "在 {point} 上,前三个因素中在本机影响最大的是**{step}**:{factor}({direction})。",
        "gap_none": "拆分这一差距的实验(`onnxruntime-levels/{w}`、`onnxruntime/{w}`)在本次构建中没有结果。",
        "figure_missing_point": "(本次构建的 {profile} 配置未测量 {point})",
        "warmup_iters": "预热调用次数(至少)",
        "warmup_s": "预热时间(秒,至少)",
        "min_iters": "每轮调用次数(至少)",
        "min_s": "每轮时长(秒,至少)",
        "reference_min_s": "参考点上的每轮时长(秒,至少)",
        "round_warmup_s": "每轮开头不计时的调用(秒)",
        "max_iters": "每轮调用次数(至多)",
        "rounds": "每个测量点的成对轮数",
        "eval_limit": "评估样本数",
        "noise_repeats": "噪声点的重测次数",
        "training_scale": "MiniLM 蒸馏所跑步数或轮数的比例",
        "timeout_s": "单个实验时限(秒)",
        "all": "全部",
        "duration": "最近一次运行耗时(秒)",
        "status": "状态",
        "total": "合计",
        "claim_col": "论断",
        "page": "检验页面",
        "faster": "更快",
        "slower": "更慢",
        "no_direction": "快慢没有可分辨的差别",
    },
}


# Markers that render a word or a figure inside a sentence (or a table cell), not a block.
INLINE_KINDS = ("figure", "direction", "card")
# Machine-card fields a page may name inline (``bench:card FIELD``, or ``bench:card package:NAME``).
CARD_FIELDS = (
    "cpu",
    "arch",
    "isa",
    "logical_cores",
    "usable_cores",
    "physical_cores",
    "usable_physical_cores",
    "memory_gib",
    "os",
    "python",
)


class MarkerError(ValueError):
    """A page asks for something that does not exist: the build must fail."""


def _t(lang: str, key: str) -> str:
    return TEXT[lang].get(key, TEXT["en"].get(key, key))


# ---- strings from results files ------------------------------------------------------------------
# A results file, or an archived release's, may come from another machine: every string it holds
# (machine card, labels, reasons, info, names) is untrusted. Markdown passes raw HTML through, and
# would read a link, an attribute list (``{: onclick=...}``), a table cell's end or a code span's end
# in such a string; so each character that makes markup becomes a character reference, which
# Markdown leaves alone and browsers and plotly.js show as the character itself. (Emphasis, from
# ``*`` or ``_``, is harmless and rare; those stay, so that names read the same in the page source.)
_REFERENCES = {ord(c): f"&#{ord(c)};" for c in "\\`[]{}|"}
_STRUCTURE_REFERENCES = {ord(c): f"&#{ord(c)};" for c in "\\`[]{}"}
_CONTROL = {c: " " for c in range(32)}


def md_text(value: Any) -> str:
    """A string from a results file, as text in Markdown, HTML or a chart, that shows as itself."""
    line = " ".join(str(value).splitlines()).translate(_CONTROL)
    return html.escape(line, quote=False).translate(_REFERENCES)


def md_code(value: Any) -> str:
    """A string from a results file (a variant's name, a commit) as a code span.

    Markdown shows a code span's content as text (it escapes ``<`` and ``&`` itself); the fence
    is longer than any run of backticks in the string, so none can end the span early."""
    line = " ".join(str(value).splitlines()).translate(_CONTROL).strip()
    fence = "`" * (max((len(run) for run in re.findall(r"`+", line)), default=0) + 1)
    pad = " " if not line or line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)


def md_safe(markdown: str) -> str:
    """Markdown written by code around strings from results files (a verdict's evidence).

    Its code spans, emphasis, paragraphs and tables stay; HTML, links, images and attribute lists
    in it show as text. Each code span is set again by ``md_code``, and a backtick outside one
    shows as a backtick, so a string cannot open or end a code span."""

    def plain(part: str) -> str:
        part = part.translate({c: " " for c in range(32) if chr(c) not in "\n\t"})
        return html.escape(part, quote=False).translate(_STRUCTURE_REFERENCES)

    out, pos = [], 0
    for match in _CODE_SPAN.finditer(markdown):
        out += [plain(markdown[pos : match.start()]), md_code(match.group(2).strip())]
        pos = match.end()
    out.append(plain(markdown[pos:]))
    return "".join(out)


def md_reason(reason: str | None) -> str:
    """Why a run failed or was skipped, on one line: the pipelines write it in Markdown (a command
    in a code span), so it goes through ``md_safe``."""
    return md_safe(" ".join((reason or "").splitlines()))


def markdown_table(df: pd.DataFrame) -> str:
    """A plain Markdown table, so the theme styles it like any other."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def fmt(value: float, digits: int = 3) -> str:
    if value >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _interval_level(speeds: Any) -> str:
    """The level(s) of the stored intervals, as printed: ``87.5%``, or ``87.5%/96.9%``."""
    from benchmarks.harness import interval_label

    levels = sorted({interval_label(s.get("confidence")) for s in speeds if s})
    return "/".join(levels) if levels else "?"


def _speedup_header(lang: str, speeds: Any) -> str:
    speeds = [s for s in speeds if s]
    if not speeds:
        return _t(lang, "speedup")
    return _t(lang, "speedup_level").format(level=_interval_level(speeds))


def _speedup_cell(speed: dict[str, Any], bold: bool = False) -> str:
    figure = f"{speed['median']:.2f}×"
    return f"{'**' + figure + '**' if bold else figure} [{speed['ci_low']:.2f}, {speed['ci_high']:.2f}]"


def _tail_cell(latency: dict[str, Any], key: str, lang: str) -> str:
    """A tail percentile, or a dash with the sample size when too few calls support it."""
    from benchmarks.harness import MIN_CALLS, percentile_supported

    if percentile_supported(latency, key):
        return fmt(latency[key])
    return _t(lang, "too_few_calls").format(n=md_text(latency.get("count", "?")), need=MIN_CALLS[key])


def _admonition(kind: str, title: str, body: str) -> str:
    indented = "\n".join(f"    {line}" if line else "" for line in body.splitlines())
    return f'!!! {kind} "{title}"\n\n{indented}\n'


def _verdict_box(kind: str, title: str, claim: str, body: str) -> str:
    """An admonition with a stable id, so the comparison table links to each verdict."""
    return f'<div id="claim-{claim.lower()}" markdown>\n\n{_admonition(kind, title, body)}\n</div>\n'


def _point_label(params: dict[str, int], lang: str) -> str:
    return ", ".join(f"{md_text(_t(lang, k))} {md_text(v)}" for k, v in params.items())


# Quality metrics shown in every speed table, next to the figures they qualify.
HEADLINE_METRICS = ("accuracy", "cosine_mean", "topic_map_ratio", "nn_top1_agreement", "top1_agreement")


def _point_spec(kind: str, spec: str | None, shape: str) -> tuple[list[str], dict[str, int]]:
    """``A:B[:C]@key=value,...`` split into its ``shape``'s parts and the point's parameters."""
    try:
        target, _, where = (spec or "").partition("@")
        parts = target.split(":")
        params = {k: int(v) for k, v in (kv.split("=") for kv in where.split(",") if kv)}
    except ValueError:
        parts = []
    if len(parts) != shape.count(":") + 1:
        raise MarkerError(f"bench:{kind} {spec!r}: expected {shape}[@key=value,...]")
    return parts, params


def _metric(key: str, value: float) -> str:
    if key.startswith("cosine"):
        return f"{value:.6f}"
    return f"{value:.2%}"


def _quality_text(metrics: dict[str, Any], lang: str) -> str:
    shown = [k for k in metrics if not k.startswith("n_")]
    return "; ".join(f"{md_text(_t(lang, k))} {_metric(k, metrics[k])}" for k in shown)


def _labels(result: ExperimentResult, lang: str) -> dict[str, str]:
    """Each variant's label, escaped (a label is read from the results file)."""
    return {v["name"]: md_text(v.get(f"label_{lang}", v["label"])) for v in result.config["variants"]}


class Renderer:
    """Turns markers into Markdown; one instance per build, reading one results folder."""

    def __init__(self, directory: Path | None = None, archive: Path | None = None) -> None:
        self.directory = directory or results_mod.results_dir()
        self.archive = archive or results_mod.archive_dir()
        self.experiments = all_experiments()
        self.kinds: dict[str, Callable[[str | None, str], str]] = {
            "table": self.table,
            "chart": self.latency_chart,
            "speedup": self.speedup_chart,
            "quality": self.quality,
            "machine": self.machine,
            "releases": self.releases,
            "verdict": self.verdict,
            "headline": self.headline,
            "comparison": self.comparison,
            "tradeoff": self.tradeoff,
            "roofline": self.roofline,
            "recipes": self.recipes,
            "figure": self.figure,
            "direction": self.direction,
            "card": self.card,
            "settings": self.settings,
            "durations": self.durations,
            "verdicts": self.verdicts,
            "consistency": self.consistency,
            "ort-gap": self.ort_gap,
        }
        self.charts = 0
        self.used: set[str] = set()  # experiments a page shows: offered for download
        self.outdated: dict[str, str] = {}  # claim -> the figure its stored results lack

    # ---- loading ---------------------------------------------------------------------------

    def _load(self, exp: str | None, lang: str) -> tuple[ExperimentResult | None, str]:
        """The result to show, or None, and a notice to print above it."""
        if exp is None or exp not in self.experiments:
            raise MarkerError(f"unknown experiment {exp!r}; known: {', '.join(sorted(self.experiments))}")
        self.used.add(exp)
        try:
            stored, failure = results_mod.load_experiment(exp, self.directory)
        except results_mod.ResultsError as exc:
            raise MarkerError(str(exc)) from exc
        if stored is None:
            return None, _admonition(
                "warning", _t(lang, "not_measured"), _t(lang, "not_measured_body").format(exp=exp)
            )
        if stored.status == "skipped":
            body = _t(lang, "skipped_body").format(exp=exp, reason=md_reason(stored.reason))
            return None, _admonition("info", _t(lang, "skipped"), body)
        if stored.status == "failed":
            body = _t(lang, "failed_body").format(
                exp=exp, date=md_text(stored.started), reason=md_reason(stored.reason)
            )
            return None, _admonition("failure", _t(lang, "failed"), body)
        notice = ""
        if failure is not None:
            skipped = failure.status == "skipped"
            body = _t(lang, "skipped_body" if skipped else "failed_body").format(
                exp=exp, date=md_text(failure.started), reason=md_reason(failure.reason)
            )
            notice = _admonition("warning", _t(lang, "latest_skipped" if skipped else "latest_failed"), body)
        return stored, notice

    def render(self, markdown: str, lang: str) -> tuple[str, int]:
        """Replace every marker; returns the new Markdown and how many charts it holds."""
        self.charts = 0
        self.used = set()

        def replace(match: re.Match[str]) -> str:
            kind, arg = match.group("kind"), match.group("arg")
            if kind not in self.kinds:
                raise MarkerError(f"unknown marker kind bench:{kind}; known: {', '.join(self.kinds)}")
            rendered = self.kinds[kind](arg, lang)
            # An inline figure stays in its sentence (and table cell); blocks get lines of their own.
            return rendered if kind in INLINE_KINDS else "\n" + rendered + "\n"

        return MARKER.sub(replace, markdown), self.charts

    # ---- renderers -------------------------------------------------------------------------

    def verdict(self, claim: str | None, lang: str) -> str:
        """The claim's rule, and the outcome its judge computes from this build's results."""
        from benchmarks.verdicts import all_verdicts

        finding, missing, skipped = self._finding(claim or "")
        check = all_verdicts()[claim or ""]
        title = _t(lang, "claim").format(claim=claim)
        body = f"**{_t(lang, 'rule')}:** {check.rule_zh if lang == 'zh' else check.rule}\n\n"
        if finding is None and skipped and len(skipped) == len(missing):
            reasons = " ".join(
                _t(lang, "verdict_skipped").format(exp=md_code(r.experiment), reason=md_reason(r.reason))
                for r in skipped
            )
            body += f"**{_t(lang, 'verdict')}: {_t(lang, 'not-measurable')}.** {reasons}"
            return _verdict_box("info", title, claim or "", body)
        if finding is None and claim in self.outdated:
            text = _t(lang, "verdict_outdated").format(
                missing=", ".join(f"`{m}`" for m in missing), field=md_text(self.outdated[claim])
            )
            return _verdict_box("warning", title, claim or "", body + text)
        if finding is None:
            text = _t(lang, "verdict_missing").format(missing=", ".join(f"`{m}`" for m in missing))
            return _verdict_box("warning", title, claim or "", body + text)
        # Written by the judges around names, labels and info strings from the results files.
        evidence = md_safe(finding.evidence_zh if lang == "zh" else finding.evidence)
        kind = {"holds": "success", "partly": "warning", "does-not-hold": "failure"}.get(
            finding.outcome, "info"
        )
        body = self._latest_run_notices(check.experiments, lang) + body
        body += f"**{_t(lang, 'verdict')}: {_t(lang, finding.outcome)}.** {_t(lang, 'evidence')}: {evidence}"
        return _verdict_box(kind, title, claim or "", body)

    def table(self, exp: str | None, lang: str) -> str:
        result, notice = self._load(exp, lang)
        if result is None:
            return notice
        rows = []
        speed_col = _speedup_header(
            lang, (e.get("speedup") for p in result.points for e in p["variants"].values())
        )
        for point in result.points:
            for name, entry in point["variants"].items():
                lat = entry["latency"]
                speed = entry.get("speedup")
                rows.append(
                    {
                        _t(lang, "point"): _point_label(point["params"], lang),
                        _t(lang, "variant"): md_code(name),
                        _t(lang, "p50"): fmt(lat["p50"]),
                        _t(lang, "p90"): _tail_cell(lat, "p90", lang),
                        _t(lang, "calls"): md_text(lat.get("count", "?")),
                        _t(lang, "cv"): f"{lat['cv']:.1%}" + (" ⚠" if name in point.get("noisy", []) else ""),
                        _t(lang, "throughput"): fmt(entry["throughput_per_s"]),
                        speed_col: _speedup_cell(speed) if speed else _t(lang, "baseline"),
                        **{
                            _t(lang, key): _metric(key, value)
                            for key, value in result.variants[name].get("quality", {}).items()
                            if key in HEADLINE_METRICS
                        },
                    }
                )
        caption = (
            f"{_t(lang, 'threads')}: {md_text(result.config['threads'])} · "
            f"{_t(lang, 'profile')}: {md_text(result.profile)} · "
            f"{_t(lang, 'date')}: {md_text(result.started)} · "
            f"{md_code(result.experiment)} · {_t(lang, 'interval_note')}"
        )
        table = markdown_table(pd.DataFrame(rows))
        if any(point.get("noisy") for point in result.points):
            threshold = f"{result.config.get('noisy_cv', 0):.0%}"
            n = result.config.get("noise_repeats", 1)
            repeats = _t(lang, "noisy_repeats").format(n=md_text(n)) if n else ""
            caption = _t(lang, "noisy").format(threshold=threshold, repeats=repeats) + " · " + caption
        return (
            f'{notice}\n<div class="bench-table" markdown>\n\n{table}\n\n</div>\n\n<small>{caption}</small>\n'
        )

    def quality(self, exp: str | None, lang: str) -> str:
        result, notice = self._load(exp, lang)
        if result is None:
            return notice
        rows = []
        for name, label in _labels(result, lang).items():
            variant = result.variants.get(name, {})
            costs = result.one_time_costs.get(name, {})
            info = variant.get("info", {})
            keep = (
                "precision",
                "providers",
                "graph_optimization_level",
                "opset",
                "exporter",
                "cpu_capability",
                "torch_threads",
                "intra_op_threads",
                "parity_max_abs_diff",
            )
            rows.append(
                {
                    _t(lang, "variant"): f"{md_code(name)}: {label}",
                    _t(lang, "quality"): _quality_text(variant.get("quality", {}), lang),
                    _t(lang, "one_time"): "; ".join(f"{md_text(k)} {v:.2f} s" for k, v in costs.items()),
                    _t(lang, "peak_mem"): fmt(variant.get("memory", {}).get("peak_rss_mb", float("nan"))),
                    _t(lang, "what_ran"): "; ".join(
                        f"{k}={md_text(v) if not isinstance(v, float) else f'{v:.2g}'}"
                        for k, v in info.items()
                        if k in keep
                    ),
                }
            )
        return notice + "\n" + markdown_table(pd.DataFrame(rows)) + "\n"

    @staticmethod
    def _colour(result: ExperimentResult, name: str) -> str:
        """The same variant keeps the same colour in every chart of an experiment."""
        names = [v["name"] for v in result.config["variants"]]
        palette = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3")
        return palette[names.index(name) % len(palette)]

    def _chart_html(self, fig: go.Figure, name: str) -> str:
        """The chart's HTML: plotly escapes ``<``, ``>`` and ``/`` in the JSON it embeds in a
        ``<script>``; strings shown in the chart are escaped by the callers (plotly.js renders a
        subset of HTML in them and decodes character references)."""
        self.charts += 1
        name = re.sub(r"[^A-Za-z0-9_-]", "-", name)  # an element id, and a string in the script
        fig.update_layout(
            margin={"l": 60, "r": 20, "t": 30, "b": 60},
            height=420,
            template="plotly_white",
            legend={"orientation": "h", "y": -0.2},
        )
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=name,
            config={"displaylogo": False, "responsive": True},
        )
        return f'<div class="bench-chart" markdown="0">\n{div}\n</div>'

    def _grouped_bars(
        self,
        exp: str | None,
        lang: str,
        kind: str,
        value: Callable[[dict[str, Any]], tuple[float, float, float]],
        with_baseline: bool,
    ) -> tuple[ExperimentResult | None, go.Figure | None, str]:
        """One bar per point and variant; ``value(entry)`` gives (height, error below, error above)."""
        result, notice = self._load(exp, lang)
        if result is None:
            return None, None, notice
        fig = go.Figure()
        for name, label in _labels(result, lang).items():
            if name == result.config["baseline"] and not with_baseline:
                continue
            xs = [_point_label(point["params"], lang) for point in result.points]
            ys, below, above = zip(*(value(point["variants"][name]) for point in result.points), strict=True)
            fig.add_bar(
                name=label,
                x=xs,
                y=list(ys),
                marker_color=self._colour(result, name),
                error_y={"type": "data", "array": list(above), "arrayminus": list(below), "symmetric": False},
            )
        fig.update_layout(barmode="group", yaxis_title=_t(lang, f"{kind}_axis"))
        return result, fig, notice

    def latency_chart(self, exp: str | None, lang: str) -> str:
        from benchmarks.harness import MIN_CALLS, percentile_supported

        def p50_to_p90(entry: dict[str, Any]) -> tuple[float, float, float]:
            lat = entry["latency"]
            tail = lat["p90"] - lat["p50"] if percentile_supported(lat, "p90") else 0.0
            return lat["p50"], 0.0, tail

        result, fig, notice = self._grouped_bars(exp, lang, "latency", p50_to_p90, with_baseline=True)
        if result is None or fig is None:
            return notice
        fig.update_layout(yaxis_title=_t(lang, "latency_axis").format(need=MIN_CALLS["p90"]))
        return notice + self._chart_html(fig, f"chart-latency-{(exp or '').replace('/', '-')}-{lang}")

    def speedup_chart(self, exp: str | None, lang: str) -> str:
        def with_ci(entry: dict[str, Any]) -> tuple[float, float, float]:
            speed = entry["speedup"]
            return speed["median"], speed["median"] - speed["ci_low"], speed["ci_high"] - speed["median"]

        result, fig, notice = self._grouped_bars(exp, lang, "speedup", with_ci, with_baseline=False)
        if result is None or fig is None:
            return notice
        fig.add_hline(y=1.0, line_dash="dot")
        level = _interval_level(e.get("speedup") for p in result.points for e in p["variants"].values())
        fig.update_layout(yaxis_title=_t(lang, "speedup_axis_level").format(level=level))
        return notice + self._chart_html(fig, f"chart-speedup-{(exp or '').replace('/', '-')}-{lang}")

    def machine(self, arg: str | None, lang: str) -> str:
        """The machine card(s) behind the results on disk."""
        if arg is not None:
            raise MarkerError("bench:machine takes no argument")
        cards: dict[str, tuple[dict[str, Any], list[str]]] = {}
        for name in sorted(self.experiments):
            try:
                stored, _ = results_mod.load_experiment(name, self.directory)
            except results_mod.ResultsError as exc:
                raise MarkerError(str(exc)) from exc
            if stored is not None:
                card = stored.machine
                cards.setdefault(card["machine_id"], (card, []))[1].append(f"`{name}`")
        if not cards:
            return _admonition(
                "warning", _t(lang, "not_measured"), _t(lang, "not_measured_body").format(exp="all")
            )
        blocks = []
        for card, names in cards.values():
            rows = [
                (_t(lang, "cpu"), f"{md_text(card['cpu'])} ({md_text(card['arch'])})"),
                (_t(lang, "isa"), ", ".join(md_text(f) for f in card["isa"]) or "-"),
                (_t(lang, "cores"), md_text(card["logical_cores"])),
                (_t(lang, "memory"), md_text(card["memory_gib"])),
                (_t(lang, "os"), md_text(card["os"])),
                (_t(lang, "python"), md_text(card["python"])),
                (
                    _t(lang, "packages"),
                    ", ".join(f"{md_text(k)} {md_text(v)}" for k, v in card["packages"].items()),
                ),
                (_t(lang, "commit"), md_code(card["commit"])),
                (_t(lang, "date"), md_text(card["date"])),
                (_t(lang, "experiments"), ", ".join(names)),
            ]
            blocks.append(
                markdown_table(pd.DataFrame(rows, columns=[_t(lang, "machine"), md_text(card["machine_id"])]))
            )
        return "\n\n".join(blocks) + "\n"

    def releases(self, exp: str | None, lang: str) -> str:
        """The experiment across archived releases and this build, speed beside quality."""
        current, notice = self._load(exp, lang)
        assert exp is not None
        versions: list[tuple[str, ExperimentResult]] = []
        if self.archive.is_dir():
            for folder in sorted(p for p in self.archive.iterdir() if p.is_dir()):
                try:
                    stored, _ = results_mod.load_experiment(exp, folder)
                except results_mod.ResultsError as exc:
                    raise MarkerError(f"archived release {folder.name}: {exc}") from exc
                if stored is not None and stored.status == "ok":
                    versions.append((md_text(folder.name), stored))
        if current is not None:
            versions.append((_t(lang, "this_build"), current))
        if not versions:
            return notice
        if len(versions) == 1 and current is not None:
            notice += _admonition("info", _t(lang, "no_archive"), _t(lang, "no_archive_body"))
        rows = []
        for version, result in versions:
            for point in result.points:
                for name, entry in point["variants"].items():
                    speed = entry.get("speedup")
                    rows.append(
                        {
                            _t(lang, "release"): version,
                            _t(lang, "point"): _point_label(point["params"], lang),
                            _t(lang, "variant"): md_code(name),
                            _t(lang, "p50"): fmt(entry["latency"]["p50"]),
                            _t(lang, "speedup_plain"): (
                                f"{speed['median']:.2f}×" if speed else _t(lang, "baseline")
                            ),
                            **{
                                _t(lang, key): _metric(key, value)
                                for key, value in result.variants[name].get("quality", {}).items()
                                if key in HEADLINE_METRICS
                            },
                            _t(lang, "commit"): md_code(result.machine.get("commit", "?")),
                        }
                    )
        table = markdown_table(pd.DataFrame(rows))
        return f'{notice}\n<div class="bench-table" markdown>\n\n{table}\n\n</div>\n'

    # ---- across experiments ----------------------------------------------------------------

    def _all_ok(self) -> dict[str, ExperimentResult]:
        from benchmarks.summary import ok_results

        try:
            return ok_results(self.directory)
        except results_mod.ResultsError as exc:
            raise MarkerError(str(exc)) from exc

    @staticmethod
    def _candidate_quality(c: Any, lang: str) -> str:
        return _quality_text({k: v for k, v in c.quality.items() if k in HEADLINE_METRICS}, lang)

    def headline(self, arg: str | None, lang: str) -> str:
        """Per workload: the fastest variant that meets the quality bar, at the reference point,
        with how many candidates it was chosen from and how far the runner-up is."""
        from benchmarks import summary, workloads

        if arg is not None:
            raise MarkerError("bench:headline takes no argument")
        results = self._all_ok()
        self.used.update(results)
        spread = summary.build_spread(results)
        rows, speeds = [], []
        for name in workloads.WORKLOADS:
            module = workloads.get(name)
            found = summary.candidates(results, name)
            if not found:
                continue
            ranking = summary.ranked(found)
            top = ranking[0] if ranking else None
            second = ranking[1] if len(ranking) > 1 else None
            bar = module.QUALITY_BAR_ZH if lang == "zh" else module.QUALITY_BAR
            speeds += [self._speed_of(c) for c in ranking[:2]]
            rows.append(
                {
                    _t(lang, "workload"): name,
                    _t(lang, "at_point"): _point_label(module.REFERENCE_POINT, lang),
                    _t(lang, "best_variant"): (
                        f"{md_text(top.label_in(lang))} (`{top.experiment}`)"
                        if top
                        else _t(lang, "none_within_bar")
                    ),
                    "speedup": _speedup_cell(self._speed_of(top), bold=True) if top else "-",
                    _t(lang, "eager_p50"): fmt(top.baseline_p50_ms) if top else "-",
                    _t(lang, "variant_p50"): fmt(top.p50_ms) if top else "-",
                    _t(lang, "candidates"): _t(lang, "candidates_n").format(
                        within=len(ranking), total=len(found)
                    ),
                    _t(lang, "runner_up"): self._runner_up(top, second, spread, results, lang),
                    _t(lang, "quality"): self._candidate_quality(top, lang) if top else "-",
                    _t(lang, "quality_bar"): bar,
                }
            )
        if not rows:
            return _admonition(
                "warning", _t(lang, "not_measured"), _t(lang, "not_measured_body").format(exp="all")
            )
        frame = pd.DataFrame(rows).rename(columns={"speedup": _speedup_header(lang, speeds)})
        note = _t(lang, "headline_note")
        return (
            f'<div class="bench-table" markdown>\n\n{markdown_table(frame)}\n\n</div>\n\n'
            f"<small>{note} {_t(lang, 'interval_note')}</small>\n"
        )

    @staticmethod
    def _speed_of(c: Any) -> dict[str, Any]:
        return {"median": c.speedup, "ci_low": c.ci_low, "ci_high": c.ci_high, "confidence": c.confidence}

    def _runner_up(self, top: Any, second: Any, spread: float | None, results: Any, lang: str) -> str:
        """The second-fastest candidate within the bar, and how far behind the winner it is."""
        from benchmarks import summary

        if top is None or second is None:
            return "-"
        gap = top.speedup / second.speedup - 1.0
        text = _t(lang, "runner_up_text").format(
            label=md_text(second.label_in(lang)),
            exp=second.experiment,
            speed=_speedup_cell(self._speed_of(second)),
            gap=gap,
        )
        if second.ci_high >= top.ci_low:
            text += _t(lang, "intervals_overlap")
        if summary.within_build_spread(top.speedup, second.speedup, results):
            text += _t(lang, "within_spread").format(spread=spread)
        return text

    def _latest_run_notices(self, experiments: tuple[str, ...], lang: str) -> str:
        """For each result a verdict reads whose latest run failed or was skipped: say so, as tables do."""
        notices = []
        for exp in experiments:
            _, latest = results_mod.load_experiment(exp, self.directory)
            if latest is not None:
                key = "latest_skipped" if latest.status == "skipped" else "latest_failed"
                body = _t(lang, "failed_body" if latest.status == "failed" else "skipped_body").format(
                    exp=exp, date=md_text(latest.started), reason=md_reason(latest.reason)
                )
                notices.append(f"**{_t(lang, key)}** ({body})\n\n")
        return "".join(notices)

    def _finding(self, claim: str) -> tuple[Any, list[str], list[ExperimentResult]]:
        """The verdict's finding (None when results are missing), missing experiments, skipped results."""
        from benchmarks.verdicts import all_verdicts, decide

        verdicts = all_verdicts()
        if claim not in verdicts:
            raise MarkerError(f"no verdict for claim {claim!r}; known: {', '.join(sorted(verdicts))}")
        check = verdicts[claim]
        results: dict[str, ExperimentResult] = {}
        skipped: list[ExperimentResult] = []
        for exp in check.experiments:
            self.used.add(exp)
            try:
                stored, _ = results_mod.load_experiment(exp, self.directory)
            except results_mod.ResultsError as exc:
                raise MarkerError(str(exc)) from exc
            if stored is not None and stored.status == "ok":
                results[exp] = stored
            elif stored is not None and stored.status == "skipped":
                skipped.append(stored)
        missing = [exp for exp in check.experiments if exp not in results]
        if missing:
            return None, missing, skipped
        try:
            return decide(check, results), missing, skipped
        except KeyError as exc:
            # Results written by older code lack a figure this rule reads: the verdict waits for
            # a run of the current pipelines instead of failing the whole build.
            self.outdated[claim] = str(exc)
            return None, list(check.experiments), skipped

    def comparison(self, arg: str | None, lang: str) -> str:
        """The article's table, measured: one row per technique and workload, each row's best
        chosen among that technique's own variants (never a comparator it is timed beside)."""
        from benchmarks import summary, workloads

        if arg is not None:
            raise MarkerError("bench:comparison takes no argument")
        results = self._all_ok()
        by_workload = {w: summary.candidates(results, w) for w in workloads.WORKLOADS}
        rows, speeds = [], []
        for technique, claim, page, title, title_zh in COMPARISON_ROWS:
            exps = {n: e for n, e in self.experiments.items() if e.technique == technique}
            self.used.update(exps)
            finding, missing, skipped = self._finding(claim)
            if finding is not None:
                verdict = f"[{_t(lang, finding.outcome)}]({page}#claim-{claim.lower()})"
            elif skipped and len(skipped) == len(missing):
                verdict = _t(lang, "not-measurable") + ": " + md_reason(skipped[0].reason)
            else:
                verdict = _t(lang, "figure_missing")
            first = True
            for workload in workloads.WORKLOADS:
                if not any(e.workload == workload for e in exps.values()):
                    continue
                found = [c for c in by_workload[workload] if c.technique == technique and c.own]
                ranking = summary.ranked(found)
                top = ranking[0] if ranking else None
                if top is not None:
                    speeds.append(self._speed_of(top))
                sizes = [c.size_ratio for c in ranking if c.size_ratio is not None]
                rows.append(
                    {
                        _t(lang, "technique"): (
                            f"[{title_zh if lang == 'zh' else title}]({page})" if first else ""
                        ),
                        _t(lang, "workload"): workload,
                        _t(lang, "best_variant"): (
                            md_text(top.label_in(lang))
                            if top
                            else (_t(lang, "none_within_bar") if found else _t(lang, "figure_missing"))
                        ),
                        "speedup": _speedup_cell(self._speed_of(top), bold=True) if top else "-",
                        _t(lang, "variant_p50"): fmt(top.p50_ms) if top else "-",
                        _t(lang, "quality"): self._candidate_quality(top, lang) if top else "-",
                        _t(lang, "size_change"): (f"{min(sizes):.2f}× … {max(sizes):.2f}×" if sizes else "-"),
                        _t(lang, "one_time"): f"{top.one_time_s:.1f} s" if top else "-",
                        _t(lang, "verdict_col"): verdict if first else "",
                    }
                )
                first = False
        frame = pd.DataFrame(rows).rename(columns={"speedup": _speedup_header(lang, speeds)})
        bars = " · ".join(
            f"{w}: {workloads.get(w).QUALITY_BAR_ZH if lang == 'zh' else workloads.get(w).QUALITY_BAR} "
            f"({_t(lang, 'at_point')} {_point_label(workloads.get(w).REFERENCE_POINT, lang)})"
            for w in workloads.WORKLOADS
        )
        return (
            f'<div class="bench-table" markdown>\n\n{markdown_table(frame)}\n\n</div>\n\n'
            f"<small>{_t(lang, 'quality_bar')}: {bars}. {_t(lang, 'interval_note')}</small>\n"
        )

    def consistency(self, arg: str | None, lang: str) -> str:
        """Every configuration this build timed in more than one experiment, with each
        experiment's p50 and their spread: how far the build agrees with itself."""
        from benchmarks import summary

        if arg is not None:
            raise MarkerError(f"bench:consistency takes no argument, got {arg!r}")
        results = self._all_ok()
        repeats = summary.consistency(results)
        self.used.update(exp for r in repeats for exp in r.p50_ms)
        if not repeats:
            return _admonition("info", _t(lang, "no_repeats"), _t(lang, "no_repeats_body"))
        worst = repeats[0]
        lead = _t(lang, "consistency_lead").format(
            n=len(repeats),
            median=summary.p50_spread(results),
            worst=worst.spread,
            label=md_text(worst.label_in(lang)),
            workload=md_text(worst.workload),
            point=_point_label(worst.params, lang),
        )
        paired = sorted((r for r in repeats if r.speedup_spread is not None), key=lambda r: -r.speedup_spread)
        if paired:
            lead += " " + _t(lang, "consistency_speedups").format(
                n=len(paired),
                median=summary.speedup_spread(results),
                worst=paired[0].speedup_spread,
                label=md_text(paired[0].label_in(lang)),
                workload=md_text(paired[0].workload),
                point=_point_label(paired[0].params, lang),
            )
        else:
            lead += " " + _t(lang, "consistency_no_speedups")

        def by_experiment(values: dict[str, float], unit: str) -> str:
            ordered = sorted(values.items(), key=lambda kv: kv[1])
            return "; ".join(f"`{exp}` {fmt(v)}{unit}" for exp, v in ordered) or "-"

        rows = [
            {
                _t(lang, "variant"): f"{md_text(r.label_in(lang))} ({md_code(r.variant)})",
                _t(lang, "workload"): md_text(r.workload),
                _t(lang, "point"): _point_label(r.params, lang),
                _t(lang, "threads"): md_text(r.threads) if r.threads is not None else "-",
                _t(lang, "p50_by_experiment"): by_experiment(r.p50_ms, ""),
                _t(lang, "spread"): f"{r.spread:.1%}",
                _t(lang, "speedup_by_experiment"): by_experiment(r.speedups, "×"),
                _t(lang, "spread") + " ×": f"{r.speedup_spread:.1%}" if r.speedup_spread is not None else "-",
            }
            for r in repeats
        ]
        table = markdown_table(pd.DataFrame(rows))
        return f'{lead}\n\n<div class="bench-table" markdown>\n\n{table}\n\n</div>\n'

    def ort_gap(self, workload: str | None, lang: str) -> str:
        """ONNX Runtime's speed over PyTorch eager at the workload's reference point, split into
        kernels, graph optimisations, export and tuning: is a difference the maths library or
        the export?"""
        from benchmarks import workloads
        from benchmarks.harness import interval_label
        from benchmarks.techniques import onnxruntime

        if workload not in workloads.WORKLOADS:
            raise MarkerError(f"unknown workload {workload!r}; known: {', '.join(workloads.WORKLOADS)}")
        steps = onnxruntime.gap_steps(self._all_ok(), workload)
        self.used.update(s.experiment for s in steps if s.experiment in self.experiments)
        if not steps:
            return _admonition("info", _t(lang, "not_measured"), _t(lang, "gap_none").format(w=workload))

        def factor(step: Any) -> str:
            if step.ci_low is None:
                return f"{step.median:.2f}×"
            level = interval_label(step.confidence)
            return f"{step.median:.2f}× [{step.ci_low:.2f}, {step.ci_high:.2f}] ({level})"

        rows = [
            {
                _t(lang, "gap_step"): _t(lang, f"gap_{s.key}"),
                _t(lang, "gap_compared"): f"{md_code(s.compared)} ({md_code(s.experiment)})",
                _t(lang, "gap_factor"): factor(s),
            }
            for s in steps
        ]
        text = f'<div class="bench-table" markdown>\n\n{markdown_table(pd.DataFrame(rows))}\n\n</div>\n'
        top = onnxruntime.largest_factor(steps)
        if top is not None:
            low = top.median if top.ci_low is None else top.ci_low
            high = top.median if top.ci_high is None else top.ci_high
            direction = _t(lang, "faster" if low > 1.0 else "slower" if high < 1.0 else "no_direction")
            point = _point_label(onnxruntime.gap_point(self._all_ok(), workload), lang)
            text += (
                "\n"
                + _t(lang, "gap_largest").format(
                    point=point,
                    step=_t(lang, f"gap_{top.key}").split(" (")[0].split("(")[0],
                    factor=factor(top),
                    direction=direction,
                )
                + "\n"
            )
        return text

    def tradeoff(self, workload: str | None, lang: str) -> str:
        """Speed against quality for every variant of every technique on one workload."""
        from benchmarks import summary, workloads

        if workload not in workloads.WORKLOADS:
            raise MarkerError(f"unknown workload {workload!r}; known: {', '.join(workloads.WORKLOADS)}")
        results = self._all_ok()
        found = summary.candidates(results, workload)
        self.used.update(c.experiment for c in found)
        if not found:
            return _admonition(
                "warning", _t(lang, "not_measured"), _t(lang, "not_measured_body").format(exp=workload)
            )
        module = workloads.get(workload)
        metric = "accuracy" if module.QUALITY_KIND == "accuracy" else "cosine_mean"
        fig = go.Figure()
        for technique in sorted({c.technique for c in found}):
            group = [c for c in found if c.technique == technique and metric in c.quality]
            fig.add_scatter(
                name=md_text(technique),
                x=[c.speedup for c in group],
                y=[c.quality[metric] for c in group],
                mode="markers",
                marker={
                    "size": 11,
                    "symbol": ["circle" if c.meets_bar else "circle-open" for c in group],
                    "line": {"width": 2},
                },
                text=[f"{md_text(c.label_in(lang))}<br>{c.experiment}" for c in group],
                hovertemplate="%{text}<br>%{x:.2f}×, %{y:.4f}<extra></extra>",
            )
        fig.add_vline(x=1.0, line_dash="dot")
        fig.update_layout(
            xaxis={"type": "log", "title": _t(lang, "speedup_axis")},
            yaxis={"title": _t(lang, metric)},
        )
        caption = (
            f"<small>{_t(lang, 'at_point')}: {_point_label(module.REFERENCE_POINT, lang)} · "
            f"{_t(lang, 'quality_bar')}: {module.QUALITY_BAR_ZH if lang == 'zh' else module.QUALITY_BAR} "
            "(● / ○)</small>\n"
        )
        return self._chart_html(fig, f"chart-tradeoff-{workload}-{lang}") + "\n\n" + caption

    def roofline(self, arg: str | None, lang: str) -> str:
        """This machine's measured ceilings and where the eager models land under them."""
        from benchmarks.techniques import principles

        if arg:
            raise MarkerError(f"bench:roofline takes no argument, got {arg!r}")
        results = {n: r for n, r in self._all_ok().items() if n in principles.ROOFLINE_EXPERIMENTS}
        self.used.update(results)
        if "roofline/gemm" not in results:
            return _admonition(
                "warning", _t(lang, "not_measured"), _t(lang, "not_measured_body").format(exp="roofline/gemm")
            )
        fig = principles.roofline_figure(results, lang)
        table = markdown_table(pd.DataFrame(principles.roofline_rows(results, lang)))
        return (
            self._chart_html(fig, f"chart-roofline-{lang}")
            + f'\n\n<div class="bench-table" markdown>\n\n{table}\n\n</div>\n'
        )

    def recipes(self, workload: str | None, lang: str) -> str:
        """The recipe chosen by rule against the peers, measured in one run (``recipes/<workload>``)."""
        from benchmarks import workloads
        from benchmarks.techniques import recipes

        exp = f"recipes/{workload}"
        if exp not in recipes.RECIPE_EXPERIMENTS:
            raise MarkerError(f"bench:recipes {workload!r}: no experiment {exp}")
        result, notice = self._load(exp, lang)
        if result is None:
            return notice
        gemm = self._all_ok().get("roofline/gemm")
        if gemm is not None:
            self.used.add("roofline/gemm")
        peak = recipes.peaks(gemm)
        module = workloads.get(workload)
        point = _point_label(module.REFERENCE_POINT, lang)
        bar = module.QUALITY_BAR_ZH if lang == "zh" else module.QUALITY_BAR
        lines = "\n\n".join(recipes.summary_lines(result, lang, peak))

        def quality(metrics: dict[str, Any]) -> str:
            return _quality_text({k: v for k, v in metrics.items() if k in HEADLINE_METRICS}, lang)

        table = markdown_table(pd.DataFrame(recipes.table_rows(result, lang, peak, quality)))
        chart = self._chart_html(recipes.figure(result, lang, point), f"chart-recipes-{workload}-{lang}")
        legend = recipes.TEXT[lang]["legend"]
        return (
            f"{notice}\n{lines}\n\n<small>{_t(lang, 'at_point')}: {point} · "
            f"{_t(lang, 'quality_bar')}: {bar} · {legend}</small>\n\n"
            f'<div class="bench-table" markdown>\n\n{table}\n\n</div>\n\n{chart}\n'
        )

    def figure(self, spec: str | None, lang: str) -> str:
        """One number inline: ``EXP:VARIANT:METRIC`` or ``EXP:VARIANT:METRIC@batch=1,seq_len=128``."""
        (exp, variant, metric), params = _point_spec("figure", spec, "EXP:VARIANT:METRIC")
        result, _ = self._load(exp, lang)
        if result is None:
            return _t(lang, "figure_missing")
        if variant not in result.variants:
            raise MarkerError(f"bench:figure {spec}: no variant {variant!r} in {exp}")
        record = result.variants[variant]
        costs = result.one_time_costs.get(variant, {})
        if metric in record.get("quality", {}):
            return _metric(metric, record["quality"][metric])
        if metric in costs:
            return f"{costs[metric]:.2f} s"
        if metric == "peak_rss_mb":
            return f"{record['memory']['peak_rss_mb']:.0f} MB"
        if metric in record.get("info", {}):
            value = record["info"][metric]
            return fmt(value) if isinstance(value, float) else md_text(value)
        keys = {frozenset(p["params"]) for p in result.points}
        if params and frozenset(params) not in keys:
            raise MarkerError(f"bench:figure {spec}: {exp} is not measured over {sorted(params)}")
        point = next((p for p in result.points if p["params"] == params), None)
        if not params and len(result.points) == 1:  # a one-point experiment needs no "@"
            point = result.points[0]
        if point is None:  # a smaller profile's grid may not reach this point
            return _t(lang, "figure_missing_point").format(
                point=_point_label(params, lang), profile=md_text(result.profile)
            )
        entry = point["variants"][variant]
        if metric == "speedup":
            speed = entry["speedup"]
            # Escaped brackets: text right after the figure must not turn it into a link.
            level = f" ({_interval_level([speed])} {_t(lang, 'ci')})" if "confidence" in speed else ""
            return f"{speed['median']:.2f}× \\[{speed['ci_low']:.2f}, {speed['ci_high']:.2f}\\]{level}"
        if metric in ("p50", "p90", "p99"):
            from benchmarks.harness import MIN_CALLS, percentile_supported

            if not percentile_supported(entry["latency"], metric):
                return _t(lang, "figure_too_few_calls").format(
                    metric=metric, n=md_text(entry["latency"].get("count", "?")), need=MIN_CALLS[metric]
                )
            n = f" (n={entry['latency']['count']})" if metric != "p50" else ""
            return f"{fmt(entry['latency'][metric])} ms{n}"
        if metric == "throughput":
            return f"{fmt(entry['throughput_per_s'])}/s"
        raise MarkerError(f"bench:figure {spec}: unknown metric {metric!r}")

    def direction(self, spec: str | None, lang: str) -> str:
        """A direction word from a measured speedup: ``EXP:VARIANT@key=value,...``.

        "faster" when the whole interval lies above 1×, "slower" when it lies below, and a
        phrase that says neither otherwise, so a sentence never types the outcome by hand.
        """
        (exp, variant), params = _point_spec("direction", spec, "EXP:VARIANT")
        result, _ = self._load(exp, lang)
        if result is None:
            return _t(lang, "figure_missing")
        if variant not in result.variants:
            raise MarkerError(f"bench:direction {spec}: no variant {variant!r} in {exp}")
        if variant == result.config.get("baseline"):
            raise MarkerError(f"bench:direction {spec}: {variant!r} is the baseline of {exp}")
        keys = {frozenset(p["params"]) for p in result.points}
        if params and frozenset(params) not in keys:
            raise MarkerError(f"bench:direction {spec}: {exp} is not measured over {sorted(params)}")
        point = next((p for p in result.points if p["params"] == params), None)
        if not params and len(result.points) == 1:
            point = result.points[0]
        if point is None:
            return _t(lang, "figure_missing_point").format(
                point=_point_label(params, lang), profile=md_text(result.profile)
            )
        speed = point["variants"][variant]["speedup"]
        if speed["ci_low"] > 1.0:
            return _t(lang, "faster")
        if speed["ci_high"] < 1.0:
            return _t(lang, "slower")
        return _t(lang, "no_direction")

    def card(self, spec: str | None, lang: str) -> str:
        """One field of the machine card(s) behind this build's results: ``FIELD`` or ``package:NAME``."""
        field, _, package = (spec or "").partition(":")
        if field not in CARD_FIELDS and not (field == "package" and package):
            known = ", ".join(CARD_FIELDS)
            raise MarkerError(f"bench:card {spec!r}: expected one of {known} or package:NAME")
        values: list[str] = []
        for name in sorted(self.experiments):
            try:
                stored, _ = results_mod.load_experiment(name, self.directory)
            except results_mod.ResultsError as exc:
                raise MarkerError(str(exc)) from exc
            if stored is None:
                continue
            card = stored.machine
            if field == "package":
                if package not in card.get("packages", {}):
                    raise MarkerError(f"bench:card {spec}: the machine card records no package {package!r}")
                value: Any = card["packages"][package]
            else:
                value = card.get(field)
            text = (", ".join(value) or "-") if isinstance(value, list) else str(value)
            if text not in values:
                values.append(text)
        return " / ".join(md_text(v) for v in values) if values else _t(lang, "figure_missing")

    def settings(self, arg: str | None, lang: str) -> str:
        """The measurement settings of each profile, read from the code that applies them."""
        from benchmarks.experiments import PROFILES

        if arg is not None:
            raise MarkerError("bench:settings takes no argument")
        rows = []
        for key in (
            "warmup_iters",
            "warmup_s",
            "min_iters",
            "min_s",
            "reference_min_s",
            "round_warmup_s",
            "max_iters",
            "rounds",
            "eval_limit",
            "noise_repeats",
            "training_scale",
            "timeout_s",
        ):
            row = {"": _t(lang, key)}
            for name, prof in PROFILES.items():
                value = (
                    getattr(prof.settings, key, None) if hasattr(prof.settings, key) else getattr(prof, key)
                )
                if key == "reference_min_s" and value is None:
                    value = prof.settings.min_s  # no longer rounds there
                row[f"`{name}`"] = _t(lang, "all") if value is None else str(value)
            rows.append(row)
        return markdown_table(pd.DataFrame(rows)) + "\n"

    def durations(self, arg: str | None, lang: str) -> str:
        """How long each experiment's last run took on the build machine: the cost of `make site`."""
        if arg is not None:
            raise MarkerError("bench:durations takes no argument")
        rows = []
        total = 0.0
        for name in sorted(self.experiments):
            try:
                stored, failure = results_mod.load_experiment(name, self.directory)
            except results_mod.ResultsError as exc:
                raise MarkerError(str(exc)) from exc
            last = failure or stored
            if last is None:
                continue
            total += last.duration_s
            rows.append(
                {
                    _t(lang, "experiments"): f"`{name}`",
                    _t(lang, "profile"): md_text(last.profile),
                    _t(lang, "status"): md_text(last.status),
                    _t(lang, "duration"): f"{last.duration_s:.1f}",
                }
            )
        if not rows:
            return _admonition(
                "warning", _t(lang, "not_measured"), _t(lang, "not_measured_body").format(exp="all")
            )
        rows.append(
            {
                _t(lang, "experiments"): f"**{_t(lang, 'total')}**",
                _t(lang, "profile"): "",
                _t(lang, "status"): "",
                _t(lang, "duration"): f"**{total:.0f}**",
            }
        )
        return markdown_table(pd.DataFrame(rows)) + "\n"

    def verdicts(self, arg: str | None, lang: str) -> str:
        """Every claim of the article with the verdict its page computes."""
        from benchmarks.verdicts import CLAIMS, all_verdicts

        if arg is not None:
            raise MarkerError("bench:verdicts takes no argument")
        known = all_verdicts()
        rows = []
        for claim, (text, text_zh, page) in CLAIMS.items():
            if claim in known:
                finding, missing, skipped = self._finding(claim)
                if finding is not None:
                    outcome = f"**{_t(lang, finding.outcome)}**"
                elif skipped and len(skipped) == len(missing):
                    outcome = _t(lang, "not-measurable")
                else:
                    outcome = _t(lang, "figure_missing")
            else:
                outcome = _t(lang, "figure_missing")
            rows.append(
                {
                    "": claim,
                    _t(lang, "claim_col"): text_zh if lang == "zh" else text,
                    _t(lang, "verdict"): outcome,
                    _t(lang, "page"): f"[{page.removesuffix('.md')}]({page}#claim-{claim.lower()})",
                }
            )
        return f'<div class="bench-table" markdown>\n\n{markdown_table(pd.DataFrame(rows))}\n\n</div>\n'


# The article's table (rows T1-T5) plus this project's additions: technique,
# claim judged on its page, page, and its title in both languages.
COMPARISON_ROWS = (
    ("onnxruntime", "T1", "onnxruntime.md", "ONNX Runtime", "ONNX Runtime"),
    ("tensorrt", "T2", "tensorrt.md", "TensorRT", "TensorRT"),
    ("pruning", "T3", "pruning.md", "Pruning", "参数修剪"),
    ("low_rank", "T4", "low-rank.md", "Low-rank decomposition", "低秩分解"),
    ("distillation", "T5", "distillation.md", "Knowledge distillation", "知识蒸馏"),
    ("quantization", "Q1", "quantization.md", "Quantization (added)", "量化(本项目补充)"),
)


def results_frame(result: ExperimentResult) -> pd.DataFrame:
    """One row per point and variant: latency, throughput, speedup and quality, for download."""
    rows = []
    for point in result.points:
        for name, entry in point["variants"].items():
            speed = entry.get("speedup") or {}
            rows.append(
                {
                    "experiment": result.experiment,
                    **{f"param_{k}": v for k, v in point["params"].items()},
                    "variant": name,
                    **{
                        f"latency_{k}_ms": entry["latency"][k] for k in ("p50", "p90", "p99", "mean", "stdev")
                    },
                    "latency_cv": entry["latency"]["cv"],
                    "throughput_per_s": entry["throughput_per_s"],
                    "speedup_median": speed.get("median"),
                    "speedup_ci_low": speed.get("ci_low"),
                    "speedup_ci_high": speed.get("ci_high"),
                    **{
                        f"quality_{k}": v for k, v in result.variants.get(name, {}).get("quality", {}).items()
                    },
                    "threads": result.config.get("threads"),
                    "profile": result.profile,
                    "started": result.started,
                    "commit": result.machine.get("commit"),
                }
            )
    frame = pd.DataFrame([{csv_cell(k): csv_cell(v) for k, v in row.items()} for row in rows])
    return frame


# A spreadsheet opening a CSV runs a cell that starts with one of these as a formula (CSV
# injection); names in a results file may come from another machine.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value for a downloadable CSV: strings that a spreadsheet would read as a formula get a
    leading apostrophe, as OWASP advises; numbers and other strings are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def download_links(experiments: set[str], lang: str, prefix: str) -> str:
    """A section listing the JSON and CSV files behind a page's figures."""
    items = []
    for exp in sorted(experiments):
        base = prefix + "results/" + results_mod.file_name(exp)[: -len(".json")]
        exp, base = html.escape(exp), html.escape(base)
        items.append(
            f'<li><code>{exp}</code>: <a href="{base}.json">JSON</a> · <a href="{base}.csv">CSV</a></li>'
        )
    return (
        f'\n\n<details class="bench-downloads"><summary>{_t(lang, "downloads")}</summary>\n'
        f"<p>{_t(lang, 'downloads_body')}</p>\n<ul>\n" + "\n".join(items) + "\n</ul>\n</details>\n"
    )
