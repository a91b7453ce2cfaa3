from __future__ import annotations

import threading

import pytest

from search.ingest.lanes import Lanes


class _Lane:
    """Stands in for a SyncWorker: Lanes only calls run(exit_when_idle=...) and sets `running`."""

    def __init__(self, work) -> None:  # type: ignore[no-untyped-def]
        self.worker_id = "w"
        self.running = True
        self.work = work

    def run(self, *, exit_when_idle: bool = False) -> None:
        self.work(self)


def test_lanes_run_at_the_same_time():
    both_in = threading.Barrier(2, timeout=5)  # broken (an error) unless both lanes are in run() together
    seen = []
    lanes = Lanes(lambda n: _Lane(lambda lane: seen.append(both_in.wait())), count=2)  # type: ignore[arg-type, return-value]
    lanes.run()
    assert sorted(seen) == [0, 1]


def test_stop_reaches_every_lane_and_run_returns():
    started = threading.Barrier(3, timeout=5)

    def until_stopped(lane: _Lane) -> None:
        started.wait()
        while lane.running:
            threading.Event().wait(0.01)

    lanes = Lanes(lambda n: _Lane(until_stopped), count=2)  # type: ignore[arg-type, return-value]
    runner = threading.Thread(target=lanes.run)
    runner.start()
    started.wait()
    lanes.stop()
    runner.join(timeout=5)
    assert not runner.is_alive() and not lanes.running


def test_a_lane_that_crashes_stops_the_others_and_is_raised():
    def crash(lane: _Lane) -> None:
        raise RuntimeError("lane broke")

    def until_stopped(lane: _Lane) -> None:
        while lane.running:
            threading.Event().wait(0.01)

    works = [crash, until_stopped]
    lanes = Lanes(lambda n: _Lane(works[n]), count=2)  # type: ignore[arg-type, return-value]
    with pytest.raises(RuntimeError, match="lane broke"):
        lanes.run()
    assert not any(lane.running for lane in lanes.workers)
