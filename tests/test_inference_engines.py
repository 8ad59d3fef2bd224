"""Inference engines (claims C7, C10): each engine matches PyTorch, records what ran, and every
engine experiment runs end to end at toy size through the command line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks import results, workloads
from benchmarks.claims import OUTCOMES
from benchmarks.claims import engines as rules
from benchmarks.engines import ParityError
from benchmarks.engines import openvino as ov_engine
from benchmarks.engines.common import StaticShapes, pad_row
from benchmarks.engines.pytorch import eager_outputs
from benchmarks.techniques import inference_engines as ie

EXPERIMENTS = [exp.name for exp in ie.EXPERIMENTS]


def _eager_outputs(workload, batch):
    with torch.inference_mode():
        return workload.torch_model()(**{k: torch.from_numpy(v) for k, v in batch.items()}).numpy()


@pytest.fixture(scope="module")
def digits(cache_dir):
    workload = workloads.get("digits-cnn")
    workload.prepare()
    return workload


def test_openvino_f32_matches_pytorch_and_records_f32(digits, tmp_path):
    variant = ie.build_openvino(digits, {"precision": "f32"}, threads=2, workdir=tmp_path)
    assert variant.info["inference_precision_hint"] == "f32"
    assert set(variant.info["heavy_layer_precisions"]) == {"f32"}
    assert variant.info["intra_op_threads"] == 2
    assert variant.info["parity_checked"] == "strict"
    assert variant.info["parity_max_abs_diff"] <= digits.PARITY_ATOL
    assert variant.one_time_costs["convert_s"] > 0 and variant.one_time_costs["compile_s"] > 0
    batch = digits.eval_batches(limit=50)[0]
    np.testing.assert_allclose(
        variant.predict(batch), _eager_outputs(digits, batch), atol=digits.PARITY_ATOL, rtol=0
    )
    # the timed call runs the bound inputs: its output is the same as predict's
    call = variant.bind(digits.timing_inputs({"batch": 8}))
    np.testing.assert_allclose(
        call()[0], variant.predict(digits.timing_inputs({"batch": 8})), atol=1e-6, rtol=0
    )


def test_openvino_default_records_the_precision_it_chose(digits, tmp_path):
    import openvino as ov

    variant = ie.build_openvino(digits, {"precision": "default"}, threads=2, workdir=tmp_path)
    chosen = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").to_string()
    assert variant.info["inference_precision_hint"] == chosen
    assert variant.info["precision_hint_set"].startswith("not set")
    # the FP32 converted model is reused from the cache, with the conversion time it cost then
    assert variant.info["ir_reused_from_cache"] is True
    assert variant.info["parity_checked"] == (
        "strict" if chosen == "f32" else "shape only (quality metrics judge bf16/int8)"
    )


def test_litert_converts_the_digits_cnn_and_matches_pytorch(digits, tmp_path):
    variant = ie.build_litert(digits, {}, threads=2, workdir=tmp_path)
    assert variant.info["shapes_prepared"] == ["batch=1,8x8"]
    assert variant.one_time_costs["convert_s[batch=1,8x8]"] > 0
    batch = digits.eval_batches(limit=20)[0]
    np.testing.assert_allclose(
        variant.predict(batch), _eager_outputs(digits, batch), atol=digits.PARITY_ATOL, rtol=0
    )
    # a new timed shape gets its own converted file, checked before use
    out = variant.bind(digits.timing_inputs({"batch": 4}))()
    assert out.shape == (4, 10)
    assert variant.info["shapes_prepared"] == ["batch=1,8x8", "batch=4,8x8"]
    assert variant.info["parity_max_abs_diff"] <= digits.PARITY_ATOL


def test_litert_tuned_form_binds_inputs_once_and_still_answers_each_input(digits, tmp_path):
    """The recipe candidate's options: its own thread count, inputs copied in once; a call after
    another input was set (an evaluation batch) copies its own inputs in again."""
    variant = ie.build_litert(digits, {"threads": 1, "bound": True}, threads=2, workdir=tmp_path)
    assert variant.info["intra_op_threads"] == 1 and variant.info["inputs"].startswith("set once")
    timed = digits.timing_inputs({"batch": 1})
    call = variant.bind(timed)
    first = np.array(call())
    batch = digits.eval_batches(limit=20)[0]
    np.testing.assert_allclose(
        variant.predict(batch), _eager_outputs(digits, batch), atol=digits.PARITY_ATOL, rtol=0
    )
    np.testing.assert_allclose(np.array(call()), first, rtol=0, atol=0)  # its own inputs again
    np.testing.assert_allclose(first, _eager_outputs(digits, timed), atol=digits.PARITY_ATOL, rtol=0)


def test_torch_compile_matches_pytorch(digits, tmp_path):
    variant = ie.build_torch_compile(digits, {}, threads=2, workdir=tmp_path)
    assert variant.info["torch_threads"] == 2
    batch = digits.eval_batches(limit=20)[0]
    np.testing.assert_allclose(
        variant.predict(batch), _eager_outputs(digits, batch), atol=digits.PARITY_ATOL, rtol=0
    )
    variant.bind(digits.timing_inputs({"batch": 3}))()
    assert "compile_s[batch=3,8x8]" in variant.one_time_costs


def test_a_wrong_static_program_fails_parity(digits):
    model = digits.torch_model()

    def prepare(inputs):
        def make_call(inputs):
            wrong = eager_outputs(model, inputs) + 0.01
            return lambda: wrong

        return make_call, 0.0

    shapes = StaticShapes("broken engine", digits, model, prepare, "convert_s", {}, {})
    with pytest.raises(ParityError, match=r"broken engine .* differs from PyTorch"):
        shapes.build()


def test_calibration_data_never_comes_from_the_evaluation_set(cache_dir):
    digits = workloads.get("digits-cnn")
    x_train = digits.dataset()[0]
    items = ov_engine.calibration_items(digits)
    np.testing.assert_array_equal(np.concatenate([i["images"] for i in items]), x_train[: len(items)])

    minilm = workloads.get("minilm")
    from benchmarks.workloads.minilm_corpus import train_texts

    calibration_texts = set(train_texts()[: ov_engine.CALIBRATION["minilm"]])
    assert calibration_texts and not calibration_texts & set(minilm.eval_texts())

    resnet = workloads.get("resnet50")
    calibration = np.concatenate([i["images"] for i in ov_engine.calibration_items(resnet)])
    evaluation = np.concatenate([b["images"] for b in resnet.eval_batches()])
    assert calibration.shape[1:] == evaluation.shape[1:]
    assert not {image.tobytes() for image in calibration} & {image.tobytes() for image in evaluation}


def test_row_padding_keeps_the_real_tokens():
    row = {"input_ids": np.array([[101, 7, 8, 102, 0]]), "attention_mask": np.array([[1, 1, 1, 1, 0]])}
    padded = pad_row(row, 8)
    assert padded["input_ids"].tolist() == [[101, 7, 8, 102, 0, 0, 0, 0]]
    assert padded["attention_mask"].tolist() == [[1, 1, 1, 1, 0, 0, 0, 0]]
    assert pad_row(row, 3)["input_ids"].tolist() == [[101, 7, 8, 102, 0, 0]]  # next multiple of 3


@pytest.fixture(scope="module")
def engine_results(toy_results):
    return toy_results


def test_every_engine_experiment_runs_end_to_end(engine_results):
    directory = engine_results
    stored = {name: results.load_experiment(name, directory)[0] for name in EXPERIMENTS}
    assert all(record is not None and record.status == "ok" for record in stored.values())

    for name, record in stored.items():
        if record.status != "ok":
            continue
        threads = record.config["threads"]
        for variant, entry in record.variants.items():
            recorded = entry["info"].get("intra_op_threads", entry["info"].get("torch_threads"))
            assert recorded == threads, (name, variant)
            assert entry["quality"], (name, variant)
        assert all(p["variants"].keys() == record.variants.keys() for p in record.points)


def test_what_ran_is_recorded(engine_results):
    directory = engine_results
    digits = results.load_experiment("engines/digits-cnn", directory)[0]
    costs = digits.one_time_costs
    assert costs["openvino-int8"]["calibrate_s"] > 0 and costs["openvino-int8"]["convert_s"] > 0
    assert costs["torch-compile"]["compile_s[batch=1,8x8]"] > 0
    assert costs["litert"]["convert_s[batch=1,8x8]"] > 0
    info = {name: entry["info"] for name, entry in digits.variants.items()}
    assert info["openvino-f32"]["inference_precision_hint"] == "f32"
    assert info["openvino-default"]["inference_precision_hint"] in {"f32", "bf16", "f16"}
    assert info["openvino-default"]["performance_hint"] and info["openvino-default"]["num_streams"]
    assert info["openvino-int8"]["calibration_batches"] == ov_engine.CALIBRATION["digits-cnn"]
    assert any(p in info["openvino-int8"]["heavy_layer_precisions"] for p in ("i8", "u8"))
    assert info["litert"]["delegate"].startswith("XNNPACK")


def test_verdicts_are_computed_from_the_results(engine_results):
    directory = engine_results
    loaded = {name: results.load_experiment(name, directory)[0] for name in EXPERIMENTS}
    ok = {name: record for name, record in loaded.items() if record.status == "ok"}
    for verdict in rules.VERDICTS:
        if not set(verdict.experiments) <= set(ok):
            continue
        finding = verdict.judge({name: ok[name] for name in verdict.experiments})
        assert finding.outcome in OUTCOMES
        assert "×" in finding.evidence and "×" in finding.evidence_zh
    finding = rules.judge_c10({name: ok[name] for name in rules.C10_EXPERIMENTS})
    assert "default precision" in finding.evidence and "默认精度" in finding.evidence_zh


# ---- the verdict rules on synthetic results ---------------------------------------------------

GOOD = {
    "digits-cnn": {"accuracy": 0.98},
    "minilm": {"cosine_mean": 0.9999, "cosine_min": 0.999, "nn_top1_agreement": 1.0, "topic_map_ratio": 1.0},
    "resnet50": {"cosine_mean": 0.9999, "cosine_min": 0.999, "top1_agreement": 1.0},
}
BAD = {
    "digits-cnn": {"accuracy": 0.90},
    "minilm": {"cosine_mean": 0.95, "cosine_min": 0.9, "nn_top1_agreement": 0.8, "topic_map_ratio": 0.9},
    "resnet50": {"cosine_mean": 0.9, "cosine_min": 0.8, "top1_agreement": 0.5},
}


def synthetic(name: str, workload: str, speeds: dict[str, float], bad: tuple[str, ...] = ()):
    """A stored result at batch 1: each variant's paired speedup over eager, and its quality."""
    from benchmarks.results import ExperimentResult

    params = {"batch": 1, "seq_len": 128} if workload == "minilm" else {"batch": 1}
    names = ["pytorch-eager", *speeds]
    entries = {}
    for variant in names:
        speed = speeds.get(variant, 1.0)
        entries[variant] = {"latency": {"p50": 10.0 / speed}}
        if variant != "pytorch-eager":
            entries[variant]["speedup"] = {"median": speed, "ci_low": speed, "ci_high": speed}
    return ExperimentResult(
        experiment=name,
        status="ok",
        profile="toy",
        config={
            "workload": workload,
            "baseline": "pytorch-eager",
            "variants": [{"name": v, "label": v, "label_zh": v} for v in names],
        },
        machine={},
        cache_key="k",
        variants={
            v: {
                "quality": BAD[workload] if v in bad else GOOD[workload],
                "info": {"inference_precision_hint": "bf16"} if v == "openvino-default" else {},
            }
            for v in names
        },
        points=[{"params": params, "variants": entries}],
    )


def engine_set(speeds: dict[str, dict[str, float]], bad: tuple[str, ...] = (), litert: float = 1.0):
    stored = {f"engines/{w}": synthetic(f"engines/{w}", w, s, bad) for w, s in speeds.items()}
    stored["engines/minilm-litert"] = synthetic("engines/minilm-litert", "minilm", {"litert": litert})
    return stored


def test_c10_needs_an_engine_at_least_1_2x_faster_on_every_workload():
    fast = {"onnxruntime": 1.3, "openvino-f32": 1.1, "openvino-default": 1.0}
    slow = {"onnxruntime": 1.1, "openvino-f32": 1.19, "openvino-default": 1.0}
    all_fast = engine_set({"digits-cnn": fast, "minilm": fast, "resnet50": fast})
    assert rules.judge_c10(all_fast).outcome == "holds"
    one_fast = engine_set({"digits-cnn": fast, "minilm": slow, "resnet50": slow})
    assert rules.judge_c10(one_fast).outcome == "partly"
    none_fast = engine_set({"digits-cnn": slow, "minilm": slow, "resnet50": slow})
    finding = rules.judge_c10(none_fast)
    assert finding.outcome == "does-not-hold"
    assert "default precision bf16" in finding.evidence and "默认精度 bf16" in finding.evidence_zh
    # a fast engine below the quality bar does not count
    int8 = {**slow, "openvino-int8": 3.0}
    below_bar = engine_set({"digits-cnn": int8, "minilm": int8, "resnet50": int8}, bad=("openvino-int8",))
    assert rules.judge_c10(below_bar).outcome == "does-not-hold"


def test_c7_compares_the_best_framework_path_with_the_fastest_engine():
    close = {"torch-compile": 1.5, "onnxruntime": 1.8, "openvino-f32": 1.0, "openvino-default": 1.0}
    far = {"torch-compile": 1.0, "onnxruntime": 1.3, "openvino-f32": 1.0, "openvino-default": 1.0}
    assert (
        rules.judge_c7(engine_set({"digits-cnn": close, "minilm": close, "resnet50": close})).outcome
        == "holds"
    )
    finding = rules.judge_c7(engine_set({"digits-cnn": far, "minilm": far, "resnet50": far}))
    assert finding.outcome == "does-not-hold" and "gap 1.30×" in finding.evidence
    mixed = engine_set({"digits-cnn": close, "minilm": far, "resnet50": far})
    assert rules.judge_c7(mixed).outcome == "partly"
    # LiteRT measured in its own MiniLM experiment counts as a framework path there
    rescued = engine_set({"digits-cnn": close, "minilm": far, "resnet50": close}, litert=1.2)
    assert rules.judge_c7(rescued).outcome == "holds"
