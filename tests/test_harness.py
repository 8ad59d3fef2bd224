import math
import statistics

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


def test_settings_validate():
    with pytest.raises(ValueError):
        MeasureSettings(min_iters=0)
    with pytest.raises(ValueError):
        MeasureSettings(rounds=0)
