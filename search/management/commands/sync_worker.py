"""Works the task queue: `manage.py sync_worker`. Run one or more per machine; see the README."""

from __future__ import annotations

import gc
import os
import signal
import socket
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand

from search.embeddings import DEFAULT_BATCH_SIZE, embedder_active, torch
from search.ingest.lanes import Lanes
from search.ingest.worker import SyncWorker


class Command(BaseCommand):
    help = (
        "Run a worker for the task queue (the database task backend): image syncs in batches, deletes and "
        "edits one at a time. Any number of workers, on any machines that reach the database, Neo4j and the "
        "media storage. SIGTERM or Ctrl-C finishes the current batch, then exits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=settings.LOOKALIKE_WORKER_BATCH)
        parser.add_argument("--lease-s", type=float, default=settings.LOOKALIKE_TASK_LEASE_S)
        parser.add_argument(
            "--idle-sleep-s", type=float, default=1.0, help="Wait between polls of an empty queue."
        )
        parser.add_argument(
            "--lanes",
            type=int,
            default=settings.LOOKALIKE_WORKER_LANES,
            help="Claim loops sharing this process's model: one's graph writes overlap another's forward pass.",
        )
        parser.add_argument("--worker-id", default=f"{socket.gethostname()}-{os.getpid()}"[:64])
        parser.add_argument(
            "--exit-when-idle",
            action="store_true",
            help="Exit once nothing is ready (benchmarks, one-off runs).",
        )

    def handle(
        self,
        *args,
        batch_size: int,
        lease_s: float,
        idle_sleep_s: float,
        lanes: int,
        worker_id: str,
        **options,
    ):
        embedder = embedder_active()  # the model loads before the first claim, not inside its lease
        self.stdout.write(
            f"Worker {worker_id}: {embedder.name} on {torch.get_num_threads()} torch thread(s), "
            f"{DEFAULT_BATCH_SIZE} images per forward pass, {lanes} lane(s)"
        )
        # Django, torch and the model stay loaded for good: keep the collector's full passes from walking them
        # (2 % of a bulk-importing worker's profile samples were in the collector).
        gc.freeze()
        worker = Lanes(
            lambda lane: SyncWorker(
                worker_id=worker_id, batch_size=batch_size, lease_s=lease_s, idle_sleep_s=idle_sleep_s
            ),
            count=lanes,
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            if not worker.running:
                raise SystemExit(1)  # asked twice: stop now; the lease hands the batch to another worker
            self.stdout.write(f"Worker {worker_id}: {signal.strsignal(signum)}, stopping after this batch")
            worker.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker.run(exit_when_idle=options["exit_when_idle"])
        self.stdout.write(f"Worker {worker_id} stopped")
