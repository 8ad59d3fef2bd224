import json
import os

import pytest

from benchmarks import results
from benchmarks.results import ExperimentResult, ResultsError


def make(status="ok", reason=None, name="onnxruntime/minilm", value=1.0):
    return ExperimentResult(
        experiment=name,
        status=status,
        reason=reason,
        profile="toy",
        config={"x": value},
        machine={"cpu": "test"},
        cache_key="k",
    )


def test_round_trip(tmp_path):
    path = results.save(make(), tmp_path)
    assert path.name == "onnxruntime__minilm.json"
    loaded = results.load(path)
    assert loaded == make()
    assert json.loads(path.read_text())["schema_version"] == results.SCHEMA_VERSION


def test_atomic_write_leaves_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = results.save(make(value=1.0), tmp_path)
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        results.save(make(value=2.0), tmp_path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_failed_run_never_replaces_good_result(tmp_path):
    good = results.save(make(), tmp_path)
    side = results.save(make(status="failed", reason="boom"), tmp_path)
    assert side != good and side.name.endswith(".latest.json")
    stored, failure = results.load_experiment("onnxruntime/minilm", tmp_path)
    assert stored.status == "ok" and failure.reason == "boom"
    # a later good run clears the failure
    results.save(make(), tmp_path)
    assert results.load_experiment("onnxruntime/minilm", tmp_path)[1] is None


def test_skipped_run_never_replaces_good_result(tmp_path):
    good = results.save(make(), tmp_path)
    before = good.read_bytes()
    side = results.save(make(status="skipped", reason="no GPU here"), tmp_path)
    assert side != good and good.read_bytes() == before
    stored, latest = results.load_experiment("onnxruntime/minilm", tmp_path)
    assert stored.status == "ok" and latest.status == "skipped" and latest.reason == "no GPU here"
    # with no good result to keep, a skipped run is the result
    other = tmp_path / "other"
    other.mkdir()
    results.save(make(status="skipped", reason="no GPU here"), other)
    assert results.load_experiment("onnxruntime/minilm", other)[0].status == "skipped"


def test_side_file_of_earlier_releases_is_still_read(tmp_path):
    results.save(make(), tmp_path)
    legacy = tmp_path / results.file_name("onnxruntime/minilm", ".failed")
    results.write_atomic(legacy, make(status="failed", reason="old boom").to_dict())
    assert results.load_experiment("onnxruntime/minilm", tmp_path)[1].reason == "old boom"
    results.save(make(), tmp_path)  # a good run clears it too
    assert not legacy.exists()


def test_failed_result_needs_reason_and_status_is_checked():
    with pytest.raises(ResultsError):
        make(status="failed")
    with pytest.raises(ResultsError):
        make(status="great")


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        json.dumps({"schema_version": 999}),
        json.dumps({"schema_version": 1, "status": "ok"}),
    ],
)
def test_corrupt_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(ResultsError, match=str(path)):
        results.load(path)
