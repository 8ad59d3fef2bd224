"""Every string the report writes on a page, in English and in Chinese: one catalogue.

Each table maps a language to its strings; a key has a string in both languages
(``tests/test_strings.py`` checks it). Strings read from results files (labels, reasons,
quality bars) are not here: they travel with the results.
"""

from __future__ import annotations

Catalogue = dict[str, dict[str, str]]

LANGUAGES = ("en", "zh")

# Headers, notices, verdict words and captions of the report's widgets.
TEXT: Catalogue = {
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


# The recipes page (``bench:recipes``); ``peer`` and ``recipe candidate`` are the roles of
# ``benchmarks.techniques.recipes`` (``PEER``, ``CANDIDATE``).
RECIPES: Catalogue = {
    "en": {
        "variant": "variant",
        "role": "role",
        "peer": "peer",
        "recipe candidate": "recipe candidate",
        "p50": "p50 (ms)",
        "p90": "p90 (ms)",
        "throughput": "items/s",
        "speedup": "vs PyTorch eager",
        "quality": "quality",
        "bar": "meets bar",
        "one_time": "one-time cost (s)",
        "precision": "computes in",
        "peak": "of the peak at that precision",
        "yes": "yes",
        "no": "no",
        "recipe": "**Recipe, chosen by the rule:** {label} — p50 {p50:.3g} ms, {speedup:.2f}× PyTorch eager.",
        "no_recipe": "**No recipe candidate meets the quality bar in this build.**",
        "peer_line": "**Fastest peer within the same bar:** {label} — p50 {p50:.3g} ms.",
        "no_peer": "**No peer meets the quality bar in this build.**",
        "ratio": (
            "**Recipe over fastest peer: {median:.2f}× [{low:.2f}, {high:.2f}]** (median of {rounds} paired "
            "rounds, {level} order-statistic interval)."
        ),
        "target": " Target {target:.2f}×: **{outcome}**.",
        "met": "met",
        "not_met": "not met",
        "overhead": (
            "Through sentence-transformers (Optimum's export, its wrapper and pooling), {framework} takes "
            "{framework_ms:.3g} ms; the same engine at the same precision, called directly on this site's "
            "export ({engine}), takes {engine_ms:.3g} ms ({diff:+.3g} ms)."
        ),
        "limit": (
            "The recipe reaches {achieved:.1f} GFLOP/s, {fraction:.0%} of this machine's measured "
            "{precision} matrix-multiply peak ({peak:.0f} GFLOP/s)."
        ),
        "axis": "p50 latency at {point} (ms); ● meets the quality bar, ○ does not",
        "legend": "★ the recipe · ◆ the fastest peer within the bar",
    },
    "zh": {
        "variant": "变体",
        "role": "角色",
        "peer": "对照(同类方案)",
        "recipe candidate": "配方候选",
        "p50": "p50(毫秒)",
        "p90": "p90(毫秒)",
        "throughput": "条/秒",
        "speedup": "相对 PyTorch eager",
        "quality": "质量",
        "bar": "达到质量门槛",
        "one_time": "一次性开销(秒)",
        "precision": "计算精度",
        "peak": "占该精度峰值",
        "yes": "是",
        "no": "否",
        "recipe": "**按规则选出的配方:**{label} —— p50 {p50:.3g} 毫秒,为 PyTorch eager 的 {speedup:.2f} 倍。",
        "no_recipe": "**本次构建中没有配方候选达到质量门槛。**",
        "peer_line": "**达到同一质量门槛的最快对照:**{label} —— p50 {p50:.3g} 毫秒。",
        "no_peer": "**本次构建中没有对照达到质量门槛。**",
        "ratio": (
            "**配方相对最快对照:{median:.2f} 倍 [{low:.2f}, {high:.2f}]**({rounds} 组成对轮次的中位数,"
            "{level} 顺序统计量区间)。"
        ),
        "target": "目标 {target:.2f} 倍:**{outcome}**。",
        "met": "达到",
        "not_met": "未达到",
        "overhead": (
            "经 sentence-transformers 调用(Optimum 的导出、其封装与池化),"
            "{framework} 需 {framework_ms:.3g} 毫秒;同一引擎、同一精度,"
            "直接调用本站导出的模型({engine})需 {engine_ms:.3g} 毫秒(差 {diff:+.3g} 毫秒)。"
        ),
        "limit": (
            "配方达到 {achieved:.1f} GFLOP/s,"
            "为本机实测 {precision} 矩阵乘峰值({peak:.0f} GFLOP/s)的 {fraction:.0%}。"
        ),
        "axis": "{point} 时的 p50 延迟(毫秒);● 达到质量门槛,○ 未达到",
        "legend": "★ 配方 · ◆ 达到质量门槛的最快对照",
    },
}

# The techniques in the article's table (``bench:comparison``), by technique name.
TECHNIQUES: Catalogue = {
    "en": {
        "onnxruntime": "ONNX Runtime",
        "tensorrt": "TensorRT",
        "pruning": "Pruning",
        "low_rank": "Low-rank decomposition",
        "distillation": "Knowledge distillation",
        "quantization": "Quantization (added)",
    },
    "zh": {
        "onnxruntime": "ONNX Runtime",
        "tensorrt": "TensorRT",
        "pruning": "参数修剪",
        "low_rank": "低秩分解",
        "distillation": "知识蒸馏",
        "quantization": "量化(本项目补充)",
    },
}

CATALOGUES: dict[str, Catalogue] = {"report": TEXT, "recipes": RECIPES, "techniques": TECHNIQUES}


def t(lang: str, key: str) -> str:
    """A report string in ``lang``; the English one where ``lang`` lacks it, else the key."""
    return TEXT[lang].get(key, TEXT["en"].get(key, key))
