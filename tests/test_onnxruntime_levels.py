"""ONNX Runtime's optimisation levels, transformer optimiser and IO binding run end to end and
record what each optimised graph holds; the T1 and C6 rules decide as written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.claims import onnxruntime as rules
from benchmarks.results import ExperimentResult
from benchmarks.techniques import onnxruntime as ort_technique
from tests.conftest import load_results

LEVELS = ("onnxruntime-levels/minilm", "onnxruntime-levels/digits-cnn")
LEVEL_VARIANTS = ("ort-disabled", "ort-basic", "ort-extended", "ort-all")


@pytest.fixture(scope="module")
def levels_results(toy_results: Path) -> dict[str, ExperimentResult]:
    return load_results(toy_results, LEVELS)


@pytest.mark.parametrize("name", LEVELS)
def test_levels_run_and_record_their_graphs(levels_results, name):
    result = levels_results[name]
    assert result.status == "ok", result.reason
    assert result.config["baseline"] == "pytorch-eager"
    onnx_variants = [v["name"] for v in result.config["variants"] if v["name"] != "pytorch-eager"]
    assert set(LEVEL_VARIANTS) <= set(onnx_variants)
    for variant in onnx_variants:
        info = result.variants[variant]["info"]
        assert info["graph_nodes"] == sum(info["graph_ops"].values()) > 0
        assert info["intra_op_threads"] == result.config["threads"]
        assert info["parity_max_abs_diff"] <= info["parity_tolerance"]
        assert result.one_time_costs[variant]["export_s"] > 0
    # nothing is optimised away when optimisation is off
    disabled = result.variants["ort-disabled"]["info"]
    assert disabled["graph_nodes"] == disabled["exported_nodes"]
    # one export serves every variant of the experiment
    made = [v for v in onnx_variants if not result.variants[v]["info"]["export_reused"]]
    assert len(made) <= 1
    assert len({result.one_time_costs[v]["export_s"] for v in onnx_variants}) == 1
    for entry in result.points:
        assert set(entry["variants"]) == {"pytorch-eager", *onnx_variants}


def test_spin_policy_is_measured_both_ways(levels_results):
    variants = levels_results["onnxruntime-levels/minilm"].variants
    assert variants["ort-all"]["info"]["allow_spinning"] == "1"
    assert variants["ort-all-no-spin"]["info"]["allow_spinning"] == "0"
    # spinning changes when idle threads sleep, not the numbers
    assert variants["ort-all-no-spin"]["quality"] == variants["ort-all"]["quality"]


def test_io_binding_variant_gives_the_same_outputs(levels_results):
    variants = levels_results["onnxruntime-levels/digits-cnn"].variants
    assert variants["ort-all-io-binding"]["info"]["io_binding"] is True
    assert variants["ort-all"]["info"]["io_binding"] is False
    # IO binding changes where buffers live, not the numbers
    assert variants["ort-all-io-binding"]["quality"] == variants["ort-all"]["quality"]


def test_all_leaves_no_more_nodes_than_disabled_for_minilm(levels_results):
    variants = levels_results["onnxruntime-levels/minilm"].variants
    assert variants["ort-all"]["info"]["graph_nodes"] <= variants["ort-disabled"]["info"]["graph_nodes"]
    # the fusions ONNX Runtime applies on this graph appear as contrib operators
    assert any(op.startswith("com.microsoft.") for op in variants["ort-all"]["info"]["graph_ops"])
    assert not any(op.startswith("com.microsoft.") for op in variants["ort-disabled"]["info"]["graph_ops"])


# What ONNX Runtime's BERT optimiser must fuse in MiniLM-L6 (6 layers) on each exporter's graph:
# the TorchScript graph matches its patterns; the torch.export graph's decomposed attention and
# layer norms match none of them (only the bias + GELU pairs).
FUSED_ON_TORCHSCRIPT = {
    "Attention": 6,
    "MultiHeadAttention": 0,
    "SkipLayerNormalization": 12,
    "EmbedLayerNormalization": 1,
    "Gelu": 0,
    "FastGelu": 0,
    "BiasGelu": 6,
}
FUSED_ON_TORCH_EXPORT = {**dict.fromkeys(FUSED_ON_TORCHSCRIPT, 0), "BiasGelu": 6}


def test_transformer_optimiser_reports_its_fusions(levels_results):
    info = levels_results["onnxruntime-levels/minilm"].variants["ort-transformer-optimizer"]["info"]
    assert isinstance(info["fused_operators"], dict) and all(n > 0 for n in info["fused_operators"].values())
    by_export = info["fused_counts_by_export"]
    assert by_export["torchscript-17"] == FUSED_ON_TORCHSCRIPT
    assert by_export["dynamo-default"] == FUSED_ON_TORCH_EXPORT
    # the variant runs the export that was kept, with that export's fusions
    assert info["fused_counts"] == by_export[info["export_chosen"]]
    assert info["attention_fused"] == (info["fused_counts"]["Attention"] > 0)
    assert info["transformer_num_heads"] == 12 and info["transformer_hidden_size"] == 384
    assert (
        levels_results["onnxruntime-levels/minilm"].one_time_costs["ort-transformer-optimizer"][
            "transformer_optimize_s"
        ]
        > 0
    )


def test_plain_and_tuned_configurations_are_recorded(toy_results):
    """T1's experiments hold ONNX Runtime at its defaults on the plain export beside the tuned one."""
    found = load_results(toy_results, rules.T1_EXPERIMENTS)
    for result in found.values():
        plain = result.variants["ort-plain"]["info"]
        tuned = result.variants["onnxruntime"]["info"]
        assert plain["export"] == "plain" and plain["export_candidate"] == "dynamo-default"
        assert plain["session_options"].startswith("ONNX Runtime defaults")
        assert plain["allow_spinning"].startswith("default")
        assert tuned["export"] == "chosen" and tuned["export_candidate"] == tuned["export_chosen"]
        assert tuned["allow_spinning"] == "1" and tuned["inter_op_threads"] == 1
        assert tuned["export_candidates"][tuned["export_chosen"]]["exact"]
    finding = rules.judge_t1(found)
    assert "`ort-plain`" in finding.evidence and "`ort-plain`" in finding.evidence_zh


def test_c6_judge_reads_the_real_results(levels_results):
    finding = rules.judge_c6(levels_results)
    assert finding.outcome in ("holds", "partly", "does-not-hold")
    nodes = levels_results["onnxruntime-levels/digits-cnn"].variants["ort-all"]["info"]["graph_nodes"]
    assert f"all {nodes} nodes" in finding.evidence and f"all {nodes} 个节点" in finding.evidence_zh


def test_io_binding_writes_into_the_bound_output(tmp_path):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["output"])],
        "double",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])],
    )
    path = tmp_path / "double.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9), str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    call, output = ort_technique.io_binding_call(session, {"x": x})
    before = output.data_ptr()
    assert call() is output and output.data_ptr() == before
    np.testing.assert_array_equal(output.numpy(), 2 * x)
    assert ort_technique.graph_ops(path) == {"Mul": 1}


# ---- the rules, on results whose figures the test chooses ----------------------------------------


def _entry(value: float | None, p50: float = 1.0) -> dict:
    entry = {"latency": {"p50": p50}}
    if value is not None:
        entry["speedup"] = {"median": value, "ci_low": value, "ci_high": value}
    return entry


def _t1_result(name: str, workload: str, batch1: list[tuple[dict, float]]) -> ExperimentResult:
    """Each batch-1 point holds the plain configuration at 0.9× and the tuned one at the figure given."""
    points = [
        {
            "params": p,
            "variants": {"pytorch-eager": _entry(None), "ort-plain": _entry(0.9), "onnxruntime": _entry(s)},
        }
        for p, s in batch1
    ]
    points.append(
        {
            "params": {**batch1[0][0], "batch": 8},
            "variants": {"pytorch-eager": _entry(None), "onnxruntime": _entry(0.1)},
        }
    )
    return ExperimentResult(
        name,
        "ok",
        "default",
        {"workload": workload, "baseline": "pytorch-eager"},
        {},
        "",
        one_time_costs={"onnxruntime": {"export_s": 7.0}},
        points=points,
    )


@pytest.mark.parametrize(
    ("minilm", "digits", "outcome"),
    [((2.0, 1.2), 5.0, "holds"), ((2.0, 0.8), 5.0, "partly"), ((1.05, 0.8), 1.0, "does-not-hold")],
)
def test_t1_rule(minilm, digits, outcome):
    found = {
        "onnxruntime/minilm": _t1_result(
            "onnxruntime/minilm",
            "minilm",
            [({"batch": 1, "seq_len": 32}, minilm[0]), ({"batch": 1, "seq_len": 128}, minilm[1])],
        ),
        "onnxruntime/digits-cnn": _t1_result(
            "onnxruntime/digits-cnn", "digits-cnn", [({"batch": 1}, digits)]
        ),
    }
    finding = rules.judge_t1(found)
    assert finding.outcome == outcome
    assert "export 7.0 s" in finding.evidence
    # the fastest configuration decides, and the plain one is shown beside it
    if minilm[1] > 0.9:
        shown = f"1×128 best `onnxruntime` {minilm[1]:.2f}×; at its defaults, `ort-plain` 0.90×"
    else:
        shown = "1×128 best `ort-plain` 0.90× (ONNX Runtime at its defaults)"
    assert shown in finding.evidence


def test_t1_judges_the_fastest_configuration_even_when_it_is_the_plain_one():
    found = {
        name: _t1_result(name, name.split("/")[1], [({"batch": 1}, 0.5)]) for name in rules.T1_EXPERIMENTS
    }
    finding = rules.judge_t1(found)
    assert finding.outcome == "does-not-hold"  # 0.9× at best
    assert "best `ort-plain` 0.90×" in finding.evidence


def _c6_result(name: str, nodes: dict[str, int], p50s: dict[str, float]) -> ExperimentResult:
    variants = {"pytorch-eager": {"info": {}}}
    for level, count in nodes.items():
        variants[f"ort-{level}"] = {"info": {"graph_nodes": count, "graph_ops": {"Add": count}}}
    point = {"pytorch-eager": _entry(None, 10.0)} | {f"ort-{k}": _entry(1.0, v) for k, v in p50s.items()}
    return ExperimentResult(
        name,
        "ok",
        "default",
        {"workload": name},
        {},
        "",
        variants=variants,
        points=[{"params": {"batch": 1}, "variants": point}],
    )


@pytest.mark.parametrize(
    ("all_nodes", "all_ms", "outcome"),
    [(5, 1.0, "holds"), (5, 1.95, "partly"), (10, 1.0, "partly"), (10, 2.0, "does-not-hold")],
)
def test_c6_rule(all_nodes, all_ms, outcome):
    levels = ("disabled", "basic", "extended", "all")
    found = {
        name: _c6_result(
            name,
            dict(zip(levels, (10, 10, 8, all_nodes), strict=True)),
            dict(zip(levels, (2.0, 2.0, 2.0, all_ms), strict=True)),
        )
        for name in rules.C6_EXPERIMENTS
    }
    finding = rules.judge_c6(found)
    assert finding.outcome == outcome
    assert f"all {all_nodes} nodes, {2.0 / all_ms:.2f}×" in finding.evidence


def test_the_gap_to_pytorch_is_split_into_the_steps_that_were_timed(toy_results):
    """Kernels x fusions is the total (up to the rounds' noise), and the page names the
    largest factor in both languages, from the real results."""
    from benchmarks.report import MarkerError, Renderer

    found = load_results(toy_results, (*LEVELS, *rules.T1_EXPERIMENTS))
    for workload in ("minilm", "digits-cnn"):
        steps = {s.key: s for s in rules.gap_steps(found, workload)}
        assert {"total", "kernels", "fusions", "export", "tuning"} <= set(steps)
        product = steps["kernels"].median * steps["fusions"].median
        assert product == pytest.approx(steps["total"].median, rel=0.5)
        assert rules.largest_factor(list(steps.values())).key in ("kernels", "fusions", "export")
    renderer = Renderer(toy_results)
    en, _ = renderer.render("<!-- bench:ort-gap minilm -->", "en")
    zh, _ = renderer.render("<!-- bench:ort-gap minilm -->", "zh")
    assert "`ort-disabled / pytorch-eager`" in en and "the largest of the first three factors" in en
    assert "`ort-disabled / pytorch-eager`" in zh and "影响最大的是" in zh
    with pytest.raises(MarkerError, match="unknown workload"):
        renderer.render("<!-- bench:ort-gap nothing -->", "en")
