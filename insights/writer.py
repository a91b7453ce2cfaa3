"""Hands search records to the event store without making the search wait for it, or fail with it.

"background" (default): the request only puts the record on a bounded in-process queue (microseconds); one
daemon thread per process writes batches. A full queue or a failing store drops events, with a warning,
never an error for the shopper. "inline": written during the request in a savepoint; failures are
swallowed the same way (tests and scripts, which need the rows at once).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Sequence

from django.conf import settings
from django.db import close_old_connections

from insights.events import SearchRecord, events_write

logger = logging.getLogger("lookalike.insights")

BATCH_MAX = 500
# At most one "dropped" warning per this many seconds, so a store outage cannot flood the log.
WARN_EVERY_S = 60.0


class _DropWarner:
    def __init__(self) -> None:
        self.dropped = 0
        self._last_warning = 0.0

    def drop(self, count: int, reason: object) -> None:
        self.dropped += count
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            logger.warning("Search events dropped (%d so far): %s", self.dropped, reason)


drops = _DropWarner()


def _write_safely(records: Sequence[SearchRecord]) -> bool:
    try:
        events_write(records)
        return True
    except Exception as exc:  # any store failure: the events are lost, the searches are not
        drops.drop(len(records), exc)
        return False


class BackgroundWriter:
    def __init__(self, size: int, gather_s: float = 0.0) -> None:
        self.gather_s = gather_s
        self._queue: queue.Queue[SearchRecord] = queue.Queue(maxsize=size)
        self._thread = threading.Thread(target=self._run, name="insights-writer", daemon=True)
        self._thread.start()

    def submit(self, record: SearchRecord) -> None:
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            drops.drop(1, "the event queue is full (the event store is slow or down)")

    def flush(self) -> None:
        """Wait until every queued record has been written or dropped (benchmarks and tests)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            # Gather what arrives meanwhile: one write (and one commit, during which SQLite makes readers
            # wait) per gather_s at most, instead of one per search (measured in docs/benchmarks.md).
            time.sleep(self.gather_s)
            while len(batch) < BATCH_MAX:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            close_old_connections()
            _write_safely(batch)
            for _ in batch:
                self._queue.task_done()


_writer: tuple[int, BackgroundWriter] | None = None
_writer_lock = threading.Lock()


def background_writer() -> BackgroundWriter:
    """This process's writer, started on first use (and again in a forked child, whose threads are gone)."""
    global _writer
    if _writer is None or _writer[0] != os.getpid():
        with _writer_lock:
            if _writer is None or _writer[0] != os.getpid():
                _writer = (
                    os.getpid(),
                    BackgroundWriter(
                        settings.LOOKALIKE_INSIGHTS_QUEUE_SIZE, gather_s=settings.LOOKALIKE_INSIGHTS_GATHER_S
                    ),
                )
    return _writer[1]


def record_submit(record: SearchRecord) -> None:
    if settings.LOOKALIKE_INSIGHTS_WRITER == "inline":
        _write_safely([record])
    else:
        background_writer().submit(record)


def records_flush() -> None:
    if _writer is not None and _writer[0] == os.getpid():
        _writer[1].flush()
