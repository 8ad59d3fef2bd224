"""A real ONNX file is exported from each workload and matches PyTorch."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from benchmarks import engines, workloads


@pytest.mark.parametrize("name", ["minilm", "digits-cnn"])
def test_onnx_export_matches_pytorch(name, tmp_path, cache_dir):
    workload = workloads.get(name)
    variant = engines.build_onnxruntime(workload, {"opt_level": "all"}, threads=2, workdir=tmp_path)
    model_file = tmp_path / f"{workload.NAME}.onnx"
    onnx.checker.check_model(str(model_file))
    assert variant.info["parity_max_abs_diff"] <= workload.PARITY_ATOL
    assert variant.info["providers"] == ["CPUExecutionProvider"]
    assert variant.one_time_costs["export_s"] > 0

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
    real_export = engines.export_onnx

    def export_then_perturb(model, wl, path, opset=18):
        info = real_export(model, wl, path, opset)
        proto = onnx.load(str(path))
        bias = next(t for t in proto.graph.initializer if len(t.dims) == 1 and t.dims[0] == 10)
        values = onnx.numpy_helper.to_array(bias) + 1.0
        bias.CopyFrom(onnx.numpy_helper.from_array(values, bias.name))
        onnx.save(proto, str(path))
        return info

    monkeypatch.setattr(engines, "export_onnx", export_then_perturb)
    with pytest.raises(engines.ParityError, match="differs from PyTorch"):
        engines.build_onnxruntime(workload, {}, threads=1, workdir=tmp_path)
