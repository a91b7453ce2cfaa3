from __future__ import annotations

import threading
import time

import pytest

from search.ingest.decode_ahead import computed_ahead


def test_results_come_in_order_computed_in_another_thread():
    threads = set()

    def work(n: int) -> int:
        threads.add(threading.current_thread().name)
        time.sleep(0.001 * (n % 3))
        return n * n

    assert list(computed_ahead(range(20), work, depth=4)) == [n * n for n in range(20)]
    assert threads == {"decode-ahead"}


def test_the_producer_runs_ahead_by_at_most_depth():
    done: list[int] = []
    results = computed_ahead(range(100), lambda n: done.append(n) or n, depth=3)
    assert next(results) == 0
    time.sleep(0.05)
    assert len(done) <= 1 + 3 + 1  # the one taken, the queue, and one waiting to be put
    results.close()


def test_an_error_reaches_the_consumer_after_the_results_before_it():
    def work(n: int) -> int:
        if n == 3:
            raise OSError("unreadable")
        return n

    results = computed_ahead(range(6), work, depth=2)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(OSError, match="unreadable"):
        next(results)
