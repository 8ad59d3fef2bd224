import math
import statistics

import numpy as np
import pytest

from benchmarks.harness import LatencyStats, MeasureSettings, PairedSpeedup, measure_round, warm_up


def test_stats_on_known_samples():
    values = [float(x) for x in range(1, 101)]  # 1..100 ms
    stats = LatencyStats.from_values(values)
    assert stats.count == 100
    assert stats.mean == pytest.approx(50.5)
    assert stats.p50 == pytest.approx(50.5)
    assert stats.p90 == pytest.approx(90.1)
    assert stats.p99 == pytest.approx(99.01)
    assert stats.min == 1.0 and stats.max == 100.0
    assert stats.stdev == pytest.approx(statistics.stdev(values))
    assert stats.cv == pytest.approx(statistics.stdev(values) / 50.5)
    assert stats.values == values and stats.unit == "ms"


def test_stats_single_sample_and_bad_input():
    one = LatencyStats.from_values([2.0])
    assert one.stdev == 0.0 and one.p99 == 2.0 and one.cv == 0.0
    with pytest.raises(ValueError):
        LatencyStats.from_values([])
    with pytest.raises(ValueError):
        LatencyStats.from_values([1.0, math.nan])


def test_paired_speedup_is_median_of_round_ratios():
    baseline = [[10.0, 10.0, 10.0], [12.0, 12.0], [8.0, 9.0, 10.0]]
    candidate = [[5.0, 5.0, 5.0], [4.0, 4.0], [4.5, 4.5, 4.5]]
    result = PairedSpeedup.from_rounds(baseline, candidate)
    assert result.ratios == pytest.approx([2.0, 3.0, 2.0])
    assert result.median == pytest.approx(2.0)
    assert result.rounds == 3
    assert 2.0 <= result.ci_high <= 3.0 and result.ci_low == pytest.approx(2.0)


def test_paired_speedup_interval_brackets_the_median_and_is_reproducible():
    baseline = [[10.0 + i % 3] for i in range(9)]
    candidate = [[5.0 + (i * 7) % 4 * 0.5] for i in range(9)]
    a = PairedSpeedup.from_rounds(baseline, candidate)
    b = PairedSpeedup.from_rounds(baseline, candidate)
    assert a == b
    assert a.ci_low <= a.median <= a.ci_high
    with pytest.raises(ValueError):
        PairedSpeedup.from_rounds(baseline, candidate[:-1])


def test_measure_round_meets_count_and_duration():
    calls = []
    settings = MeasureSettings(min_iters=5, min_s=0.05, warmup_iters=2, warmup_s=0.0)
    samples = measure_round(lambda: calls.append(1), settings)
    assert len(samples) >= 5 and len(samples) == len(calls)
    assert all(s >= 0 for s in samples)
    # a slow call: the count, not the duration, ends the round
    import time

    slow = measure_round(lambda: time.sleep(0.02), MeasureSettings(min_iters=3, min_s=0.0))
    assert len(slow) == 3 and min(slow) >= 19.0
    assert warm_up(lambda: None, settings) >= 2


def test_rounds_start_untimed_and_last_longer_at_the_reference_point():
    import time

    calls = []

    def call():
        calls.append(time.perf_counter())
        time.sleep(0.002)

    settings = MeasureSettings(min_iters=1, min_s=0.01, round_warmup_s=0.03, reference_min_s=0.1)
    samples = measure_round(call, settings)
    untimed = len(calls) - len(samples)
    assert untimed >= 5 and calls[untimed - 1] - calls[0] >= 0.02  # warm-up calls, not in the samples
    assert sum(samples) < 60  # an ordinary round: about 0.01 s
    calls.clear()
    long = measure_round(call, settings, reference=True)
    assert sum(long) >= 95 and len(long) > 3 * len(samples)  # at least 0.1 s of timed calls
    # a call known to outlast the warm-up on its own is not repeated for it
    calls.clear()
    slow = measure_round(call, settings, call_ms=50.0)
    assert len(calls) == len(slow)
    # without a reference length, the reference point rounds like the others
    plain = MeasureSettings(min_iters=1, min_s=0.01)
    assert sum(measure_round(call, plain, reference=True)) < 60


def test_settings_validate():
    with pytest.raises(ValueError):
        MeasureSettings(min_iters=0)
    with pytest.raises(ValueError):
        MeasureSettings(rounds=0)
    with pytest.raises(ValueError):
        MeasureSettings(round_warmup_s=-1)
    with pytest.raises(ValueError):
        MeasureSettings(min_s=0.5, reference_min_s=0.1)  # reference rounds are the longer ones


def test_median_interval_level_is_exact_for_the_number_of_rounds():
    from benchmarks.harness import median_interval, median_interval_level

    # min-max of n draws misses the median when all n fall on one side: 2 / 2**n
    assert median_interval_level(4, 1) == pytest.approx(0.875)
    assert median_interval_level(6, 1) == pytest.approx(1 - 2 / 64)
    assert median_interval_level(2, 1) == pytest.approx(0.5)
    assert median_interval_level(1, 1) == 0.0
    # 4 rounds cannot reach 95%: the widest interval, labelled with its real level
    assert median_interval([3.0, 1.0, 4.0, 2.0]) == (1.0, 4.0, pytest.approx(0.875))
    # 12 rounds: x_(3)..x_(10) has 96.1%, x_(4)..x_(9) only 85.4%
    low, high, level = median_interval([float(i) for i in range(1, 13)])
    assert (low, high) == (3.0, 10.0) and level == pytest.approx(1 - 2 * (1 + 12 + 66) / 4096)
    with pytest.raises(ValueError):
        median_interval_level(4, 3)
    with pytest.raises(ValueError):
        median_interval([])


def test_median_interval_covers_at_its_stated_level():
    """Simulated coverage matches the stated level (the bootstrap's 95% label did not)."""
    from benchmarks.harness import median_interval

    rng = np.random.default_rng(1)
    for n in (4, 6):
        draws = rng.lognormal(0.0, 0.3, size=(4000, n))  # true median 1.0
        hits, level = 0, None
        for row in draws:
            low, high, level = median_interval(row)
            hits += low <= 1.0 <= high
        assert hits / len(draws) == pytest.approx(level, abs=0.02)


def test_paired_speedup_states_its_interval_level():
    baseline = [[10.0], [10.0], [10.0], [10.0]]
    candidate = [[5.0], [4.0], [5.5], [4.5]]
    result = PairedSpeedup.from_rounds(baseline, candidate)
    assert result.confidence == pytest.approx(0.875)
    assert (result.ci_low, result.ci_high) == (pytest.approx(10 / 5.5), pytest.approx(2.5))
    assert "order-statistic" in result.to_dict()["method"]
    from benchmarks.harness import interval_label

    assert interval_label(0.875) == "87.5%" and interval_label(0.96875) == "96.9%"
    assert interval_label(0.5) == "50%" and interval_label(None) == "?"


def test_tail_percentiles_need_enough_calls():
    from benchmarks.harness import MIN_CALLS, percentile_supported, supported_tail

    few = LatencyStats.from_values([1.0] * 12).to_dict()
    some = LatencyStats.from_values([1.0] * MIN_CALLS["p90"]).to_dict()
    many = LatencyStats.from_values([1.0] * MIN_CALLS["p99"]).to_dict()
    assert not percentile_supported(few, "p90") and supported_tail(few) == "p50"
    assert percentile_supported(some, "p90") and not percentile_supported(some, "p99")
    assert supported_tail(some) == "p90" and supported_tail(many) == "p99"
    assert supported_tail({"p50": 1.0, "p99": 2.0}) == "p50"  # no count stored: median only
    with pytest.raises(ValueError):
        percentile_supported(many, "p95")
