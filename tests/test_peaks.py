"""Peaks, measured and theoretical, and the per-call overhead: the arithmetic of the theoretical
peak for several machine cards, the choice of the best library, the overhead read from results,
and (full tier) a real toy run of roofline/gemm and overhead/empty-call."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.claims.peaks import Peak, cores_used, overhead_ms, peaks
from benchmarks.machine import cpu_clock, machine_card, microarchitecture, theoretical_peak
from benchmarks.results import ExperimentResult
from tests.conftest import load_results
from tests.synthetic import result

ZEN4 = {  # the AMD EPYC build machine: AVX-512 with BF16 and VNNI, no AMX
    "cpu": "AMD EPYC",
    "cpu_vendor": "AuthenticAMD",
    "cpu_family": 25,
    "cpu_model_id": 17,
    "isa": ["AVX-512 BF16", "AVX-512 VNNI", "AVX-512BW", "AVX-512F", "AVX2", "FMA"],
    "usable_physical_cores": 2,
    "clock_mhz": 2600.0,
    "clock_source": "/proc/cpuinfo cpu MHz",
}
SAPPHIRE_RAPIDS = {
    "cpu": "Intel(R) Xeon(R) Platinum 8481C",
    "cpu_vendor": "GenuineIntel",
    "cpu_family": 6,
    "cpu_model_id": 143,
    "isa": ["AMX", "AMX-BF16", "AMX-INT8", "AVX-512 BF16", "AVX-512 VNNI", "AVX-512F", "AVX2", "FMA"],
    "usable_physical_cores": 4,
    "clock_mhz": 2000.0,
    "clock_source": "cpufreq cpuinfo_max_freq",
}
HASWELL = {  # AVX2 and FMA only
    "cpu": "Intel(R) Xeon(R) CPU E5-2680 v3",
    "cpu_vendor": "GenuineIntel",
    "cpu_family": 6,
    "cpu_model_id": 63,
    "isa": ["AVX2", "FMA"],
    "usable_physical_cores": 8,
    "clock_mhz": 2500.0,
    "clock_source": "cpufreq cpuinfo_max_freq",
}
GRAVITON = {
    "cpu": "Neoverse-N1",
    "arch": "aarch64",
    "isa": ["NEON"],
    "usable_physical_cores": 2,
    "clock_mhz": 2500.0,
}


def test_zen4_runs_avx512_in_halves_so_its_fp32_peak_is_the_avx2_one():
    assert microarchitecture(ZEN4) == "zen4"
    fp32 = theoretical_peak(ZEN4, "fp32")
    assert fp32.gflop_s == pytest.approx(2 * 2600e6 * 32 / 1e9)  # 166.4
    assert not fp32.rate.assumed
    bf16, int8 = theoretical_peak(ZEN4, "bf16"), theoretical_peak(ZEN4, "int8")
    assert bf16.gflop_s == pytest.approx(2 * 2.6 * 64) and "VDPBF16PS" in bf16.rate.isa
    assert int8.gflop_s == pytest.approx(2 * 2.6 * 128) and "VPDPBUSD" in int8.rate.isa
    assert bf16.rate.assumed and int8.rate.assumed  # shown as assumed, not as fact
    # Zen 3 shares the family but has no AVX-512
    zen3 = {**ZEN4, "isa": ["AVX2", "FMA"]}
    assert microarchitecture(zen3) == "zen3"
    assert theoretical_peak(zen3, "fp32").gflop_s == pytest.approx(2 * 2.6 * 32)


def test_amx_sets_the_bf16_and_int8_peaks():
    assert microarchitecture(SAPPHIRE_RAPIDS) == "intel-amx"
    assert theoretical_peak(SAPPHIRE_RAPIDS, "fp32").gflop_s == pytest.approx(4 * 2.0 * 64)
    assert theoretical_peak(SAPPHIRE_RAPIDS, "bf16").gflop_s == pytest.approx(4 * 2.0 * 1024)
    assert theoretical_peak(SAPPHIRE_RAPIDS, "int8").gflop_s == pytest.approx(4 * 2.0 * 2048)
    # the cores the run used, not every core of the card
    assert theoretical_peak(SAPPHIRE_RAPIDS, "fp32", cores=1).gflop_s == pytest.approx(2.0 * 64)


def test_avx2_only_cpu_has_an_fp32_bound_for_bf16_and_no_int8_line():
    assert microarchitecture(HASWELL) == "intel-avx2"
    assert theoretical_peak(HASWELL, "fp32").gflop_s == pytest.approx(8 * 2.5 * 32)
    bf16 = theoretical_peak(HASWELL, "bf16")
    assert bf16.fallback and bf16.gflop_s == pytest.approx(8 * 2.5 * 32)
    int8 = theoretical_peak(HASWELL, "int8")
    assert int8.gflop_s is None and "int8" in int8.reason


@pytest.mark.parametrize("clock", [None, "fast", -1.0, float("inf"), True])
def test_unknown_clock_gives_no_theoretical_line_and_says_why(clock):
    card = {**ZEN4, "clock_mhz": clock, "clock_source": "no cpufreq maximum and no /proc/cpuinfo"}
    found = peaks(None, card)
    for peak in found.values():
        assert peak.theoretical_gflop_s is None and peak.best is None
        assert "clock unknown" in peak.theoretical_basis and "时钟频率未知" in peak.theoretical_basis_zh


def test_unknown_cpu_gives_no_theoretical_line():
    for card in (GRAVITON, {}, {"cpu_vendor": "AuthenticAMD", "cpu_family": "25"}):
        theory = theoretical_peak(card, "fp32")
        assert theory.gflop_s is None and theory.reason == "no per-cycle figure for this CPU"
    with pytest.raises(ValueError, match="unknown precision"):
        theoretical_peak(ZEN4, "fp16")


def test_the_card_records_its_clock_and_where_it_came_from():
    card = machine_card()
    mhz, source = cpu_clock()
    assert card["clock_mhz"] == mhz and card["clock_source"] == source
    assert mhz is None or mhz > 0
    assert source  # the source, or why there is none
    assert {"cpu_vendor", "cpu_family", "cpu_model_id"} <= set(card)


def gemm_result(rates: dict[str, tuple[str, float]], threads: int = 2) -> ExperimentResult:
    """roofline/gemm as stored: each variant's precision record and its p50 for 2 GFLOP calls."""
    flops = 2 * 1024**3
    variants = {
        name: {"info": {"flops_per_call": flops, "compute_precision": p}} for name, (p, _) in rates.items()
    }
    stored = result("roofline/gemm", "digits-cnn", variants, [({"batch": 1}, {})])
    row = stored.points[0]["variants"]
    for name, (_, gflop_s) in rates.items():
        row[name] = {"latency": {"p50": flops / gflop_s / 1e6}}
    stored.config["threads"] = threads
    stored.config["variants"] = [
        {"name": n, "label": f"label of {n}", "label_zh": f"{n} 的标签"} for n in rates
    ]
    return stored


RATES = {
    "gemm-fp32-torch": ("fp32", 40.0),
    "gemm-fp32-onnxruntime": ("fp32", 57.0),
    "gemm-bf16-torch": ("bf16", 75.0),
    "gemm-bf16-openvino": ("bf16", 128.0),
    "gemm-int8-openvino": ("int8", 900.0),
    "gemm-int8-onnxruntime": ("int8", 200.0),
}


def test_peaks_pick_the_fastest_library_per_precision_and_the_higher_of_the_two():
    found = peaks(gemm_result(RATES), ZEN4)
    assert set(found) == {"fp32", "bf16", "int8"}
    assert found["fp32"].measured_by == "gemm-fp32-onnxruntime"
    assert found["fp32"].measured_gflop_s == pytest.approx(57.0)
    assert found["bf16"].measured_by == "gemm-bf16-openvino"
    # theoretical above measured: the theoretical line is the one a variant is held to
    assert found["fp32"].best == pytest.approx(found["fp32"].theoretical_gflop_s) == pytest.approx(166.4)
    # a measured rate above the theoretical one (say the clock boosts past the card's) wins
    assert found["int8"].best == pytest.approx(900.0)
    assert found["int8"].theoretical_gflop_s < 900.0
    assert "2 cores × 2600 MHz (/proc/cpuinfo cpu MHz) × 32 FLOP" in found["fp32"].theoretical_basis
    assert "(assumed)" in found["bf16"].theoretical_basis and found["bf16"].theoretical_assumed
    assert "假定" in found["bf16"].basis("zh") and "cycle" not in found["bf16"].basis("zh")


def test_peaks_use_the_threads_the_run_used_and_read_older_results_by_dtype():
    one_thread = gemm_result(RATES, threads=1)
    assert cores_used(one_thread, ZEN4) == 1
    assert peaks(one_thread, ZEN4)["fp32"].theoretical_gflop_s == pytest.approx(2.6 * 32)
    assert cores_used(gemm_result(RATES, threads=8), ZEN4) == 2  # never more than the physical cores
    older = gemm_result({"gemm-bf16-torch": ("bf16", 75.0)})
    older.variants["gemm-bf16-torch"]["info"] = {"flops_per_call": 2 * 1024**3, "dtype": "bfloat16"}
    assert peaks(older, ZEN4)["bf16"].measured_by == "gemm-bf16-torch"
    assert peaks(None, ZEN4)["int8"].measured_gflop_s is None
    assert Peak("fp32", None, None, None, "clock unknown").best is None


def test_overhead_ms_maps_each_engine_to_its_p50():
    engines = {"empty-pytorch": "pytorch", "empty-onnxruntime": "onnxruntime", "empty-openvino": "openvino"}
    variants = {name: {"info": {"engine": engine}} for name, engine in engines.items()}
    stored = result(
        "overhead/empty-call", "digits-cnn", variants, [({"batch": 1}, {"empty-onnxruntime": 4.0})]
    )
    stored.points[0]["variants"]["empty-openvino"] = {"latency": {"p50": 0.09}}
    assert overhead_ms(stored) == {"pytorch": 1.0, "onnxruntime": 0.25, "openvino": 0.09}
    assert overhead_ms(None) == {}
    stored.status = "failed"
    assert overhead_ms(stored) == {}


def test_roofline_table_and_chart_show_each_library_and_the_theoretical_lines():
    from benchmarks.report.roofline import roofline_figure, roofline_rows

    gemm = gemm_result(RATES)
    gemm.machine = ZEN4
    results = {"roofline/gemm": gemm}
    for lang in ("en", "zh"):
        rows = roofline_rows(results, lang)
        cells = [" ".join(row.values()) for row in rows]
        for name in RATES:
            assert any(f"`{name}`" in c for c in cells), (lang, name)
        assert any("166.4 GFLOP/s" in c and "AVX-512 FMA" in c for c in cells), lang
        names = [trace.name for trace in roofline_figure(results, lang).data]
        assert sum("label of" in n or "的标签" in n for n in names) == len(RATES)
        theory = [trace for trace in roofline_figure(results, lang).data if trace.line.dash == "dash"]
        assert sorted(t.y[0] for t in theory) == pytest.approx([166.4, 332.8, 665.6])
    # without a clock: the table says why, the chart draws no theoretical line
    gemm.machine = {**ZEN4, "clock_mhz": None, "clock_source": "no cpufreq maximum and no /proc/cpuinfo"}
    assert any("clock unknown" in " ".join(r.values()) for r in roofline_rows(results, "en"))
    assert not [t for t in roofline_figure(results, "en").data if t.line.dash == "dash"]


# ---- full tier: the real toy run --------------------------------------------------------------


def test_toy_run_measures_every_library_and_every_engine(toy_results: Path):
    from benchmarks.techniques import overhead, roofline

    stored = load_results(toy_results, ["roofline/gemm", "overhead/empty-call"])
    gemm = stored["roofline/gemm"]
    assert set(gemm.variants) == {v.name for v in roofline.GEMM_VARIANTS}
    for name, record in gemm.variants.items():
        info = record["info"]
        assert info["library"] and info["compute_precision"] in ("fp32", "bf16", "int8"), name
        if info["compute_precision"] == "fp32" or info["dtype"].startswith("int8"):
            assert info["max_abs_error_vs_float64"] < (1 if "openvino" in name else 1e-2), name
    found = peaks(gemm, gemm.machine)
    assert found["fp32"].measured_gflop_s > 0 and found["int8"].measured_gflop_s > 0
    assert all(p.theoretical_basis for p in found.values())
    empty = stored["overhead/empty-call"]
    assert set(empty.variants) == {v.name for v in overhead.VARIANTS}
    ms = overhead_ms(empty)
    assert set(ms) == {"pytorch", "onnxruntime", "openvino", "litert"}
    assert all(math.isfinite(v) and v > 0 for v in ms.values())  # no bound: machines differ in speed
