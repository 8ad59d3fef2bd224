"""The artifact store: one key policy, made once, never left half-written."""

from __future__ import annotations

import pytest

from benchmarks import store


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path))


def _maker(calls: list[str], text: str):
    def make(path):
        calls.append(text)
        path.write_text(text)

    return make


def test_an_artifact_is_made_once_per_key():
    calls: list[str] = []
    first = store.artifact("demo", {"n": 1}, _maker(calls, "a"), suffix=".txt")
    again = store.artifact("demo", {"n": 1}, _maker(calls, "b"), suffix=".txt")
    other = store.artifact("demo", {"n": 2}, _maker(calls, "c"), suffix=".txt")
    assert first == again != other
    assert calls == ["a", "c"] and first.read_text() == "a"


def test_the_key_includes_the_makers_source_and_package_versions():
    def one():
        return 1

    def two():
        return 2

    base = store.key_digest({"n": 1})
    assert store.key_digest({"n": 1}, code=[one]) != store.key_digest({"n": 1}, code=[two]) != base
    assert store.key_digest({"n": 1}, packages=["numpy"]) != base


def test_a_failed_make_leaves_nothing_and_a_rejected_artifact_is_made_again():
    def broken(path):
        path.write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        store.artifact("demo", {"n": 3}, broken)
    folder = store.cache_dir() / "demo"
    assert [p.name for p in folder.iterdir() if not p.name.endswith(".lock")] == []

    calls: list[str] = []
    path = store.artifact("demo", {"n": 3}, _maker(calls, "bad"))

    def check(p):
        if p.read_text() == "bad":
            raise ValueError("corrupt")

    assert store.artifact("demo", {"n": 3}, _maker(calls, "good"), check=check) == path
    assert path.read_text() == "good" and calls == ["bad", "good"]
