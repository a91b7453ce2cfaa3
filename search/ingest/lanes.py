"""Lanes: several claim loops in one worker process, sharing its loaded model, one forward pass at a time.

A batch is the model's work (read, decode, forward) and then the graph's: Neo4j writes, the SIMILAR_TO
refresh, marking the tasks done, claiming the next batch. With one loop the model waits through the graph
part (about a quarter of a batch's time in docs/benchmarks.md, "Ingestion through the queue") and a core the
worker was given goes idle. With two, one lane's graph part runs while the other's batch is on the model.
Each lane is a SyncWorker of its own (its own claims, leases, database connection and Neo4j retry delay), so
the queue sees what it would see from two workers with the same id; the model lock (search/embeddings.py)
keeps their forward passes from running at once and oversubscribing the torch threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import connection

from search.ingest.worker import SyncWorker

logger = logging.getLogger("lookalike.worker")


class Lanes:
    def __init__(self, make_worker: Callable[[int], SyncWorker], *, count: int) -> None:
        self.workers = [make_worker(lane) for lane in range(max(count, 1))]
        self.failure: BaseException | None = None

    def stop(self) -> None:
        """Each lane finishes its current batch, then returns."""
        for worker in self.workers:
            worker.running = False

    @property
    def running(self) -> bool:
        return all(worker.running for worker in self.workers)

    def run(self, *, exit_when_idle: bool = False) -> None:
        """Run every lane until stopped (or idle, with exit_when_idle); a lane's crash stops the others and
        is raised here, as a one-loop worker's would be."""
        threads = [
            threading.Thread(target=self._lane, args=(worker, exit_when_idle), name=f"lane-{n}", daemon=True)
            for n, worker in enumerate(self.workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)  # a short wait, so signal handlers run in the main thread
        if self.failure is not None:
            raise self.failure

    def _lane(self, worker: SyncWorker, exit_when_idle: bool) -> None:
        try:
            worker.run(exit_when_idle=exit_when_idle)
        except BaseException as exc:
            logger.exception("Worker %s: a lane failed; stopping the others", worker.worker_id)
            self.failure = exc
            self.stop()
        finally:
            connection.close()  # this lane's own connection
