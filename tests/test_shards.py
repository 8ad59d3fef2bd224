"""Sharded runs: the partition (pure, the same on every machine), the merge of shard folders,
the CLI's refusals, the Arm skip of the SIMD caps, and two shards of a toy run giving the same
results as one unsharded run."""

from __future__ import annotations

import json
import platform
import random
from pathlib import Path

import pytest

from benchmarks import results, shards
from benchmarks.experiments import all_experiments, get_experiment
from benchmarks.results import ExperimentResult
from tests.conftest import run_cli

COSTS = {"a": 90.0, "b": 60.0, "c": 50.0, "d": 40.0, "e": 30.0, "f": 30.0, "g": 10.0, "h": 5.0}


def _stored(name: str, duration: float, status: str = "ok", profile: str = "toy") -> ExperimentResult:
    return ExperimentResult(
        experiment=name,
        status=status,
        profile=profile,
        config={"workload": "digits-cnn"},
        machine={},
        cache_key="k",
        reason=None if status == "ok" else "why",
        duration_s=duration,
    )


# -- the partition ---------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 4, 8, 11])
def test_partition_is_disjoint_covers_all_and_ignores_order(count):
    bins = shards.partition(COSTS, count)
    assert len(bins) == count
    flat = [n for b in bins for n in b]
    assert sorted(flat) == sorted(COSTS) and len(flat) == len(set(flat))
    for seed in range(5):  # the same partition whatever order the experiments come in
        names = list(COSTS)
        random.Random(seed).shuffle(names)
        assert shards.partition({n: COSTS[n] for n in names}, count) == bins


def test_partition_is_greedy_longest_first_and_balanced():
    bins = shards.partition(COSTS, 3)
    # 90 -> 1; 60 -> 2; 50 -> 3; 40 -> 3 (90); 30 (e) -> 2 (90); 30 (f) -> 1 (120)?  no: loads
    # are 90, 90, 90 after e, so f goes to bin 1 (lowest number); g -> 2, h -> 3
    assert bins == [["a", "f"], ["b", "e", "g"], ["c", "d", "h"]]
    loads = [sum(COSTS[n] for n in b) for b in bins]
    assert max(loads) - min(loads) <= max(COSTS.values())
    assert max(loads) <= sum(COSTS.values()) / 3 + max(COSTS.values())


def test_ties_are_broken_by_name():
    assert shards.partition({"y": 1.0, "x": 1.0, "z": 1.0, "w": 1.0}, 2) == [["w", "y"], ["x", "z"]]


def test_more_shards_than_experiments_leaves_some_empty():
    assert shards.partition({"a": 1.0}, 3) == [["a"], [], []]


@pytest.mark.parametrize(
    ("text", "expected"), [("1/1", (1, 1)), ("2/4", (2, 4)), (" 3 / 3 ", (3, 3)), ("10/12", (10, 12))]
)
def test_parse_shard(text, expected):
    assert shards.parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "", "1/0", "1", "1/2/3", "-1/2", "a/b", "1.5/2"])
def test_parse_shard_refuses(text):
    with pytest.raises(shards.ShardError, match="--shard"):
        shards.parse_shard(text)


def test_cost_is_the_last_stored_duration_or_the_workload_estimate(tmp_path):
    results.save(_stored("t/one", 12.5), tmp_path)
    results.save(_stored("t/two", 3.0), tmp_path)
    results.save(_stored("t/two", 40.0, status="failed"), tmp_path)  # kept beside: the last run
    results.save(_stored("t/zero", 0.0), tmp_path)
    (tmp_path / results.file_name("t/bad")).write_text("{not json")
    assert shards.cost_of("t/one", "minilm", tmp_path) == shards.Cost(12.5, True)
    assert shards.cost_of("t/two", "minilm", tmp_path) == shards.Cost(40.0, True)
    for name in ("t/zero", "t/bad", "t/none"):
        assert shards.cost_of(name, "minilm", tmp_path) == shards.Cost(shards.ESTIMATE_S["minilm"], False)
    assert shards.cost_of("t/none", "unknown", tmp_path).seconds == shards.DEFAULT_ESTIMATE_S


def test_choose_reads_costs_from_one_folder_and_keeps_the_given_order(tmp_path):
    experiments = [e for n, e in sorted(all_experiments().items()) if n.endswith("digits-cnn")][:6]
    assert len(experiments) == 6
    costs_dir = tmp_path / "costs"
    # one long experiment: it gets a shard to itself
    results.save(_stored(experiments[3].name, 1000.0), costs_dir)
    first, line = shards.choose(experiments, "1/2", costs_dir)
    second, _ = shards.choose(experiments, "2/2", costs_dir)
    assert [e.name for e in first] == [experiments[3].name]
    assert [e.name for e in second] == [e.name for e in experiments if e is not experiments[3]]
    assert "shard 1/2: 1 of 6 experiments" in line
    # with no stored run at all every experiment costs its workload's estimate: 3 and 3
    even = [len(shards.choose(experiments, f"{i}/2", tmp_path / "empty")[0]) for i in (1, 2)]
    assert even == [3, 3]


# -- merging ---------------------------------------------------------------------------------


def _shard_dirs(tmp_path: Path) -> tuple[Path, Path]:
    one, two = tmp_path / "s1", tmp_path / "s2"
    results.save(_stored("t/a", 1.0), one)
    results.save(_stored("t/b", 2.0), one)
    results.save(_stored("t/b", 2.0, status="failed"), one)  # a .latest file beside it
    results.save(_stored("t/c", 3.0, status="skipped"), two)
    return one, two


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()} if directory.exists() else {}


def test_merge_copies_disjoint_shards_byte_for_byte(tmp_path):
    one, two = _shard_dirs(tmp_path)
    dest = tmp_path / "results"
    written = shards.merge([one, two], dest)
    assert sorted(p.name for p in written) == sorted(_snapshot(one) | _snapshot(two))
    assert _snapshot(dest) == _snapshot(one) | _snapshot(two)
    stored, latest = results.load_experiment("t/b", dest)
    assert stored.status == "ok" and latest.status == "failed"


def _refused(tmp_path: Path, sources: list[Path], message: str, dest: Path | None = None) -> None:
    dest = dest or tmp_path / "results"
    before = _snapshot(dest)
    with pytest.raises(shards.ShardError, match=message):
        shards.merge(sources, dest)
    assert _snapshot(dest) == before  # nothing written


def test_merge_refuses_a_clash(tmp_path):
    one, two = _shard_dirs(tmp_path)
    results.save(_stored("t/a", 5.0), two)
    _refused(tmp_path, [one, two], r"experiment t/a is in both .*s1 and .*s2")
    # the same experiment split over two folders (its result in one, its latest run in the other)
    three = tmp_path / "s3"
    results.write_atomic(
        three / results.file_name("t/b", results.LATEST_SUFFIX), _stored("t/b", 1.0).to_dict()
    )
    _refused(tmp_path, [one, three], "experiment t/b is in both")


def test_merge_refuses_invalid_files_and_folders(tmp_path):
    one, _ = _shard_dirs(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "t__x.json").write_text("{not json")
    _refused(tmp_path, [one, bad], "not a readable results file")
    schema = tmp_path / "schema"
    schema.mkdir()
    data = _stored("t/y", 1.0).to_dict() | {"duration_s": "slow"}
    (schema / "t__y.json").write_text(json.dumps(data))
    _refused(tmp_path, [one, schema], "duration_s: expected a number")
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    (renamed / "other.json").write_text((one / "t__a.json").read_text())
    _refused(tmp_path, [renamed], "holds experiment 't/a'")
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "notes.txt").write_text("x")
    _refused(tmp_path, [stray], "not a results file")
    _refused(tmp_path, [tmp_path / "missing"], "not a folder of results")
    toy_default = tmp_path / "default"
    results.save(_stored("t/z", 1.0, profile="default"), toy_default)
    _refused(tmp_path, [one, toy_default], "different profiles")


def test_merge_never_overwrites_a_result_already_there(tmp_path):
    one, two = _shard_dirs(tmp_path)
    dest = tmp_path / "results"
    results.save(_stored("t/c", 9.0), dest)
    _refused(tmp_path, [one, two], "already exists", dest=dest)
    # other experiments' results there stay, and are no clash
    dest2 = tmp_path / "results2"
    results.save(_stored("t/other", 9.0), dest2)
    shards.merge([one, two], dest2)
    assert (dest2 / "t__other.json").exists() and (dest2 / "t__c.json").exists()


def test_cli_refuses_bad_shards_and_clashing_merges(tmp_path):
    for bad in ("0/2", "3/2", "x"):
        proc = run_cli("run", "--shard", bad, env={"BENCH_RESULTS_DIR": str(tmp_path / "r")})
        assert proc.returncode == 2 and "error: --shard" in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "r").exists()
    listed = run_cli("list", "--shard", "2/3", "--costs", str(tmp_path / "none"))
    assert listed.returncode == 0 and listed.stdout.startswith("shard 2/3: ")
    one, two = _shard_dirs(tmp_path)
    results.save(_stored("t/a", 5.0), two)
    dest = tmp_path / "merged"
    proc = run_cli("merge", str(one), str(two), env={"BENCH_RESULTS_DIR": str(dest)})
    assert proc.returncode == 2 and "experiment t/a is in both" in proc.stderr and not dest.exists()


# -- Arm: the SIMD caps are skipped ------------------------------------------------------------


@pytest.mark.parametrize("machine", ["aarch64", "arm64", "riscv64", ""])
def test_simd_caps_are_skipped_off_x86_with_the_reason(monkeypatch, machine):
    from benchmarks.runner import _skip_reason

    monkeypatch.setattr(platform, "machine", lambda: machine)
    for name in ("isa/minilm", "isa/digits-cnn"):
        reason = _skip_reason(get_experiment(name))
        assert reason and "x86 instruction sets" in reason and (machine or "unknown") in reason


@pytest.mark.parametrize("machine", ["x86_64", "AMD64"])
def test_simd_caps_run_on_x86(monkeypatch, machine):
    from benchmarks.runner import _skip_reason

    monkeypatch.setattr(platform, "machine", lambda: machine)
    assert _skip_reason(get_experiment("isa/minilm")) is None


def test_a_skipped_cap_is_stored_as_skipped_with_its_reason(monkeypatch, tmp_path):
    from benchmarks.experiments import PROFILES
    from benchmarks.machine import machine_card
    from benchmarks.runner import run_experiment

    card = machine_card()
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    result = run_experiment(get_experiment("isa/digits-cnn"), PROFILES["toy"], card, lambda _: None)
    assert result.status == "skipped" and "aarch64" in result.reason and not result.points
    results.save(result, tmp_path)
    assert results.load_experiment("isa/digits-cnn", tmp_path)[0].status == "skipped"


# -- two shards of a toy run are one run -----------------------------------------------------

# Cheap digits-CNN experiments; the session's toy run of every experiment is the unsharded run.
TOY = ["layout/digits-cnn", "threads/digits-cnn", "overhead/empty-call", "onnxruntime/digits-cnn"]


def _comparable(record: ExperimentResult) -> dict:
    """A result without its timings: what must not depend on how the run was split."""
    return {
        "experiment": record.experiment,
        "status": record.status,
        "profile": record.profile,
        "config": record.config,
        "variants": sorted(record.variants),
        "points": [(p["params"], sorted(p["variants"])) for p in record.points],
        "quality": {n: v.get("quality") for n, v in record.variants.items()},
    }


def test_two_shards_merge_into_the_unsharded_results(tmp_path, toy_results):
    whole, merged = toy_results, tmp_path / "merged"
    costs = tmp_path / "costs"  # no stored run: the estimates split the four two and two
    names = []
    for i in (1, 2):
        folder = tmp_path / f"shard{i}"
        proc = run_cli(
            "run", "--profile", "toy", "--shard", f"{i}/2", "--costs", str(costs), *TOY,
            env={"BENCH_RESULTS_DIR": str(folder)},
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"shard {i}/2: 2 of 4 experiments" in proc.stdout
        names.append(sorted(p.name for p in folder.iterdir()))
    assert not set(names[0]) & set(names[1])
    proc = run_cli(
        "merge", str(tmp_path / "shard1"), str(tmp_path / "shard2"), env={"BENCH_RESULTS_DIR": str(merged)}
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in merged.iterdir()) == sorted(results.file_name(n) for n in TOY)
    for name in TOY:
        a, _ = results.load_experiment(name, whole)
        b, _ = results.load_experiment(name, merged)
        assert a.status == "ok", (name, a.reason)
        left, right = _comparable(a), _comparable(b)
        quality_a, quality_b = left.pop("quality"), right.pop("quality")
        assert left == right, name
        for variant, figures in quality_a.items():
            assert figures.keys() == quality_b[variant].keys()
            for metric, value in figures.items():
                assert quality_b[variant][metric] == pytest.approx(value, rel=1e-6, abs=1e-9), (name, variant)
    # The cache keys may differ: they name the packages the workers had loaded, which depends on
    # what ran before in the same run; the merged results are up to date all the same.
    listed = run_cli("list", "--profile", "toy", env={"BENCH_RESULTS_DIR": str(merged)})
    for name in TOY:
        assert f"{name:28s} digits-cnn   up-to-date" in listed.stdout, listed.stdout
