"""The engines page's rules: C7 (the frameworks' own CPU paths are already fast) and C10 (an
inference engine is faster than PyTorch eager)."""

from __future__ import annotations

from benchmarks.claims import Finding, Verdict, info, quality
from benchmarks.results import ExperimentResult
from benchmarks.techniques.inference_engines import (
    LITERT,
    OPENVINO_DEFAULT,
    OPENVINO_F32,
    OPENVINO_INT8,
    TORCH_COMPILE,
)
from benchmarks.techniques.onnxruntime import ORT_ALL, PYTORCH_EAGER

# ---- verdicts --------------------------------------------------------------------------------

BASELINE = PYTORCH_EAGER.name
# The frameworks' own CPU paths (claim C7): PyTorch eager and compiled, and the TensorFlow
# family's runtime, LiteRT.
FRAMEWORK_PATHS = (BASELINE, TORCH_COMPILE.name, LITERT.name)
# Dedicated inference engines (claim C10): ONNX Runtime, OpenVINO and LiteRT (TensorFlow Lite).
ENGINE_PATHS = (ORT_ALL.name, OPENVINO_F32.name, OPENVINO_DEFAULT.name, OPENVINO_INT8.name, LITERT.name)
C7_MAX_GAP = 1.25
C10_MIN_SPEEDUP = 1.2
WORKLOAD_EXPERIMENTS = {
    "digits-cnn": ("engines/digits-cnn",),
    "minilm": ("engines/minilm", "engines/minilm-litert"),
    "resnet50": ("engines/resnet50",),
}
C7_EXPERIMENTS = tuple(e for group in WORKLOAD_EXPERIMENTS.values() for e in group)
C10_EXPERIMENTS = tuple(group[0] for group in WORKLOAD_EXPERIMENTS.values())


def _labels(result: ExperimentResult) -> dict[str, tuple[str, str]]:
    return {v["name"]: (v["label"], v.get("label_zh", v["label"])) for v in result.config["variants"]}


def _point_text(params: dict[str, int]) -> tuple[str, str]:
    names = {"batch": ("batch", "批大小"), "seq_len": ("seq", "序列"), "image_size": ("image", "图像")}
    en = ", ".join(f"{names.get(k, (k, k))[0]} {v}" for k, v in params.items())
    zh = ",".join(f"{names.get(k, (k, k))[1]} {v}" for k, v in params.items())
    return en, zh


def candidates_at(
    results: dict[str, ExperimentResult], workload: str, params: dict[str, int], names: tuple[str, ...]
) -> list[tuple[str, str, str, float]]:
    """(variant, label, label_zh, paired speedup over eager) of the named variants at one point that
    meet the workload's quality bar; eager itself counts as 1.0. Variants of the same workload
    measured in a companion experiment are compared through their own paired speedup over eager."""
    from benchmarks import workloads

    module = workloads.get(workload)
    found: list[tuple[str, str, str, float]] = []
    for exp in WORKLOAD_EXPERIMENTS[workload]:
        result = results.get(exp)
        if result is None:
            continue
        entry = next((p for p in result.points if p["params"] == params), None)
        if entry is None:
            continue
        labels = _labels(result)
        base_quality = quality(result, BASELINE)
        for name, row in entry["variants"].items():
            if name not in names or any(c[0] == name for c in found):
                continue
            if not module.meets_bar(quality(result, name), base_quality):
                continue
            ratio = 1.0 if name == BASELINE else row["speedup"]["median"]
            found.append((name, *labels[name], ratio))
    return found


def _precision_note(results: dict[str, ExperimentResult]) -> tuple[str, str]:
    """What OpenVINO's default settings ran in, and what that cost in quality, per workload."""
    en, zh = [], []
    for workload, group in WORKLOAD_EXPERIMENTS.items():
        result = results[group[0]]
        names = {v["name"] for v in result.config["variants"]}
        if not {OPENVINO_F32.name, OPENVINO_DEFAULT.name} <= names:
            continue
        hint = info(result, OPENVINO_DEFAULT.name).get("inference_precision_hint", "?")
        metric = "accuracy" if "accuracy" in quality(result, BASELINE) else "cosine_min"
        shown = "{:.2%}" if metric == "accuracy" else "{:.6f}"
        f32, default = (
            shown.format(quality(result, n)[metric]) for n in (OPENVINO_F32.name, OPENVINO_DEFAULT.name)
        )
        named = {"accuracy": ("test accuracy", "测试准确率"), "cosine_min": ("min cosine", "最小余弦相似度")}
        en.append(
            f"{workload}: default precision {hint}, {named[metric][0]} {f32} with f32, {default} default"
        )
        zh.append(f"{workload}:默认精度 {hint},{named[metric][1]} f32 为 {f32},默认为 {default}")
    return "; ".join(en), ";".join(zh)


def judge_c7(results: dict[str, ExperimentResult]) -> Finding:
    rows_en, rows_zh, gaps = [], [], []
    for workload, group in WORKLOAD_EXPERIMENTS.items():
        for point in results[group[0]].points:
            params = point["params"]
            every = candidates_at(results, workload, params, FRAMEWORK_PATHS + ENGINE_PATHS)
            native = [c for c in every if c[0] in FRAMEWORK_PATHS]
            if not native:
                continue
            best_native = max(native, key=lambda c: c[3])
            fastest = max(every, key=lambda c: c[3])
            gap = fastest[3] / best_native[3]
            gaps.append(gap)
            where_en, where_zh = _point_text(params)
            paths_en = ", ".join(f"{c[1]} {c[3]:.2f}×" for c in native)
            paths_zh = "、".join(f"{c[2]} {c[3]:.2f}×" for c in native)
            rows_en.append(
                f"{workload} ({where_en}): framework paths {paths_en}; fastest {fastest[1]} "
                f"{fastest[3]:.2f}×; gap {gap:.2f}×"
            )
            rows_zh.append(
                f"{workload}({where_zh}):框架路径 {paths_zh};最快 {fastest[2]} {fastest[3]:.2f}×;"
                f"差距 {gap:.2f}×"
            )
    if not gaps:
        return Finding(
            "not-measurable",
            "no measured point had a framework path within the quality bar.",
            "没有任何测量点上的框架路径满足质量门槛。",
        )
    close = sum(g <= C7_MAX_GAP for g in gaps)
    outcome = "holds" if close == len(gaps) else "does-not-hold" if close == 0 else "partly"
    head_en = f"{close} of {len(gaps)} points within {C7_MAX_GAP}× (speedups over PyTorch eager): "
    head_zh = f"{len(gaps)} 个测量点中有 {close} 个差距不超过 {C7_MAX_GAP}×(相对 PyTorch eager 的加速比):"
    return Finding(outcome, head_en + "; ".join(rows_en) + ".", head_zh + ";".join(rows_zh) + "。")


def judge_c10(results: dict[str, ExperimentResult]) -> Finding:
    rows_en, rows_zh = [], []
    per_workload: list[bool] = []
    for workload, group in WORKLOAD_EXPERIMENTS.items():
        result = results[group[0]]
        points = [p["params"] for p in result.points if p["params"].get("batch") == 1]
        passed = bool(points)
        for params in points:
            where_en, where_zh = _point_text(params)
            engines = [c for c in candidates_at(results, workload, params, ENGINE_PATHS) if c[0] != BASELINE]
            if not engines:
                passed = False
                rows_en.append(f"{workload} ({where_en}): no engine meets the quality bar")
                rows_zh.append(f"{workload}({where_zh}):没有推理引擎满足质量门槛")
                continue
            best = max(engines, key=lambda c: c[3])
            passed &= best[3] >= C10_MIN_SPEEDUP
            rows_en.append(f"{workload} ({where_en}): best engine {best[1]} {best[3]:.2f}×")
            rows_zh.append(f"{workload}({where_zh}):最佳推理引擎 {best[2]} {best[3]:.2f}×")
        per_workload.append(passed)
    outcome = "holds" if all(per_workload) else "partly" if any(per_workload) else "does-not-hold"
    note_en, note_zh = _precision_note(results)
    return Finding(
        outcome,
        "; ".join(rows_en) + f". OpenVINO's own defaults: {note_en}.",
        ";".join(rows_zh) + f"。OpenVINO 默认设置:{note_zh}。",
    )


VERDICTS = [
    Verdict(
        claim="C7",
        experiments=C7_EXPERIMENTS,
        rule=(
            "The frameworks' own CPU paths are PyTorch eager, torch.compile and LiteRT (the TensorFlow "
            "family's runtime). At every measured point of every workload (digits CNN, MiniLM, ResNet-50), "
            "the best framework path is compared with the fastest variant of any engine measured there, "
            "both among variants that meet the workload's quality bar and both as median paired speedups "
            f"over PyTorch eager. Holds if the fastest is at most {C7_MAX_GAP}× faster than the best "
            f"framework path at every point (the frameworks are already optimised for the CPU); does not "
            f"hold if it is more than {C7_MAX_GAP}× faster at every point; partly holds otherwise."
        ),
        rule_zh=(
            "框架自身的 CPU 路径指 PyTorch eager、torch.compile 和 LiteRT(TensorFlow 家族的运行时)。"
            "在每个工作负载(手写数字 CNN、MiniLM、ResNet-50)的每个测量点上,把最佳框架路径与该处测得的任何"
            "引擎的最快变体相比,两者都只取满足该工作负载质量门槛的变体,"
            "都用相对 PyTorch eager 的成对轮次加速比中位数。"
            f"若每个测量点上最快变体都不超过最佳框架路径的 {C7_MAX_GAP} 倍(即框架已针对 CPU 优化),"
            f"则成立;若每个测量点上都超过 {C7_MAX_GAP} 倍,则不成立;其余情况为部分成立。"
        ),
        judge=judge_c7,
    ),
    Verdict(
        claim="C10",
        experiments=C10_EXPERIMENTS,
        rule=(
            "Inference engines are ONNX Runtime, OpenVINO (f32, default settings, INT8) and LiteRT "
            "(TensorFlow Lite, measured on the digits CNN here). Holds if, on every workload (digits CNN, "
            "MiniLM, ResNet-50), the fastest engine variant that meets the workload's quality bar is at "
            f"least {C10_MIN_SPEEDUP}× faster than PyTorch eager FP32 (median paired speedup) at every "
            "batch-1 point; does not hold if no workload reaches that; partly holds otherwise."
        ),
        rule_zh=(
            "推理引擎指 ONNX Runtime、OpenVINO(f32、默认设置、INT8)和 LiteRT(TensorFlow Lite,此处在手写数字"
            "CNN 上测量)。若在每个工作负载(手写数字 CNN、MiniLM、ResNet-50)批大小为 1 的每个测量点上,满足"
            f"该工作负载质量门槛的最快推理引擎变体都比 PyTorch eager FP32 快至少 {C10_MIN_SPEEDUP} 倍"
            "(成对轮次加速比中位数),则成立;若没有任何工作负载做到,则不成立;其余情况为部分成立。"
        ),
        judge=judge_c10,
    ),
]
