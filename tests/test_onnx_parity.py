"""A real ONNX file is exported from each workload and matches PyTorch."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from benchmarks import workloads
from benchmarks.engines import ParityError
from benchmarks.engines import onnxruntime as ort_engine


@pytest.mark.parametrize("name", ["minilm", "digits-cnn"])
def test_onnx_export_matches_pytorch(name, tmp_path, cache_dir):
    workload = workloads.get(name)
    variant = ort_engine.build_onnxruntime(workload, {"opt_level": "all"}, threads=2, workdir=tmp_path)
    onnx.checker.check_model(variant.info["onnx_file"])
    assert variant.info["parity_max_abs_diff"] <= workload.PARITY_ATOL
    assert variant.info["providers"] == ["CPUExecutionProvider"]
    assert variant.one_time_costs["export_s"] > 0
    # Both exporters a user would try were tried; the one kept is exact, and why is recorded.
    candidates = variant.info["export_candidates"]
    assert set(candidates) == {ort_engine.candidate_name(*c) for c in ort_engine.EXPORT_CANDIDATES}
    assert candidates[variant.info["export_chosen"]]["exact"]
    assert (
        variant.info["export_candidate"] == variant.info["export_chosen"]
        or variant.info["export"] != "chosen"
    )
    assert variant.info["export_choice_reason"]
    assert candidates["torchscript-17"]["opset"] == 17
    # The session options every ONNX Runtime variant gets: threads set, idle threads spinning.
    assert variant.info["intra_op_threads"] == 2 and variant.info["allow_spinning"] == "1"

    model = workload.torch_model()
    batch = workload.eval_batches(limit=20)[0]
    with torch.inference_mode():
        expected = model(**{k: torch.from_numpy(v) for k, v in batch.items()}).numpy()
    np.testing.assert_allclose(variant.predict(batch), expected, atol=workload.PARITY_ATOL, rtol=0)


def test_parity_failure_is_an_error(tmp_path, cache_dir, monkeypatch):
    workload = workloads.get("digits-cnn")
    monkeypatch.setattr(
        workload, "parity_inputs", lambda: [{"images": np.full((1, 1, 8, 8), 0.37, np.float32)}]
    )
    real_export = ort_engine.export_onnx

    def export_then_perturb(model, wl, path, exporter="dynamo", opset=18):
        info = real_export(model, wl, path, exporter, opset)
        proto = onnx.load(str(path))
        bias = next(t for t in proto.graph.initializer if len(t.dims) == 1 and t.dims[0] == 10)
        values = onnx.numpy_helper.to_array(bias) + 1.0
        bias.CopyFrom(onnx.numpy_helper.from_array(values, bias.name))
        onnx.save(proto, str(path))
        return info

    monkeypatch.setattr(ort_engine, "export_onnx", export_then_perturb)
    # Every candidate export is perturbed: none is exact, so no variant runs.
    with pytest.raises(ParityError, match="no export matches PyTorch"):
        ort_engine.build_onnxruntime(workload, {}, threads=1, workdir=tmp_path)


def test_session_options_tuned_and_defaults():
    tuned, record = ort_engine.ort_session_options(3, "basic")
    assert tuned.intra_op_num_threads == 3 and tuned.inter_op_num_threads == 1
    assert tuned.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert record["graph_optimization_level"] == "basic" and record["allow_spinning"] == "1"
    sleeping, record = ort_engine.ort_session_options(3, spinning=False)
    assert sleeping.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert record["allow_spinning"] == "0" and record["session_options"] == "tuned, idle threads sleeping"
    plain, record = ort_engine.ort_session_options(3, engine_defaults=True)
    assert plain.intra_op_num_threads == 3 and plain.inter_op_num_threads == 0
    with pytest.raises(RuntimeError):  # not set: ONNX Runtime's default (spinning) applies
        plain.get_session_config_entry("session.intra_op.allow_spinning")
    assert record["session_options"].startswith("ONNX Runtime defaults")
