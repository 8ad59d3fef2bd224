"""Round scheduling: each round holds every variant once, and the order rotates."""

from __future__ import annotations

import time
import types

from benchmarks import runner


class _FakeWorker:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log
        self.process = types.SimpleNamespace(pid=0)

    def request(self, command: str, arg=None):
        assert command == "round"
        self.log.append(self.name)
        return [float(len(self.log))]


def test_each_round_starts_at_another_variant_and_stays_paired(monkeypatch):
    monkeypatch.setattr(runner, "wait_until_idle", lambda pid: 0.0)
    log: list[str] = []
    workers = [_FakeWorker(n, log) for n in "ABC"]
    rounds = runner._measure_point(workers, 4, time.monotonic() + 60, 60)
    order = [log[i : i + 3] for i in range(0, len(log), 3)]
    assert order == [list("ABC"), list("BCA"), list("CAB"), list("ABC")]
    # pairing: every variant has one sample list per round, in round order
    assert {k: len(v) for k, v in rounds.items()} == {"A": 4, "B": 4, "C": 4}
    assert rounds["A"][1] == [6.0]  # round 2 ran B, C, then A
