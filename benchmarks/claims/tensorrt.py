"""The TensorRT page's rule: T2, TensorRT on an NVIDIA GPU against PyTorch on the same GPU."""

from __future__ import annotations

from typing import Any

from benchmarks.claims import Finding, Verdict, quality, speedup
from benchmarks.results import ExperimentResult
from benchmarks.techniques.tensorrt import TRT_FP16, TRT_FP32

# ---- verdict -------------------------------------------------------------------------------------

MUCH_FASTER = 2.0
FASTER = 1.1


def _meets_bar(metrics: dict[str, Any]) -> bool:
    from benchmarks.workloads import resnet50

    return resnet50.meets_bar(metrics, {})


def judge_t2(results: dict[str, ExperimentResult]) -> Finding:
    """TensorRT against PyTorch FP32 on the same GPU, at the largest batch measured."""
    result = results["tensorrt/resnet50"]
    largest = max((e["params"] for e in result.points), key=lambda p: p["batch"])
    fp16 = speedup(result, TRT_FP16.name, **largest)
    fp32 = speedup(result, TRT_FP32.name, **largest)
    fp16_ok = _meets_bar(quality(result, TRT_FP16.name))
    device = result.variants[TRT_FP16.name]["info"].get("device", "?")
    if fp16 >= MUCH_FASTER and fp16_ok:
        outcome = "holds"
    elif max(fp32, fp16 if fp16_ok else 0.0) >= FASTER:
        outcome = "partly"
    else:
        outcome = "does-not-hold"
    cosine = quality(result, TRT_FP16.name).get("cosine_mean", float("nan"))
    bar = "meets" if fp16_ok else "misses"
    bar_zh = "达到" if fp16_ok else "未达到"
    return Finding(
        outcome,
        f"{device}, batch {largest['batch']}: TensorRT FP32 {fp32:.2f}×, FP16 {fp16:.2f}× over PyTorch "
        f"FP32 (FP16 mean logit cosine {cosine:.4f}, {bar} the fidelity bar; random weights)",
        f"{device},批大小 {largest['batch']}:TensorRT FP32 {fp32:.2f}×,FP16 {fp16:.2f}×(相对 PyTorch "
        f"FP32;FP16 平均 logit 余弦 {cosine:.4f},{bar_zh}保真度门槛;随机权重)",
    )


VERDICTS = [
    Verdict(
        claim="T2",
        experiments=("tensorrt/resnet50",),
        rule=(
            "Measured only where an NVIDIA GPU and TensorRT exist (elsewhere: not measurable here, with "
            "the reason). Holds if, at the largest batch measured (128 in the default profile, the "
            "published setting), TensorRT FP16 is at least 2× faster than PyTorch eager FP32 on the same "
            "GPU (median paired speedup) while its outputs meet ResNet-50's fidelity bar; partly holds if "
            "only a TensorRT engine at least 1.1× faster is found (FP32, or FP16 within the bar); does not "
            "hold otherwise."
        ),
        rule_zh=(
            "只在有 NVIDIA GPU 和 TensorRT 的机器上测量(否则为本机无法测量,并写明原因)。在测量的最大批大小"
            "(默认配置档为 128,即公开数据的设置)上,若 TensorRT FP16 比同一块 GPU 上的 PyTorch eager FP32 "
            "快至少 2 倍(成对轮次加速比的中位数),且输出达到 ResNet-50 的保真度门槛,则成立;若只有某个 "
            "TensorRT 引擎(FP32,或达到门槛的 FP16)快至少 1.1 倍,则部分成立;否则不成立。"
        ),
        judge=judge_t2,
    ),
]
