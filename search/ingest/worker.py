"""The sync worker (`manage.py sync_worker`): works the task queue that saves, the API and the admin fill.

Image syncs are claimed in batches of whole products (search/ingest/product_claims.py), so a batch is
embedded together, written to Neo4j in one round trip and refreshes each touched product's SIMILAR_TO once
(or leaves it to the batch that takes the product's next queued image: search/ingest/deferral.py), and no
other batch holds that product meanwhile; any other task (deletes, product edits) runs alone.
Every claim is a lease (search/ingest/claims.py): a SIGKILLed worker's tasks run again elsewhere once it
runs out. Neo4j unreachable: the batch goes back to the queue with a growing delay, nothing is dropped.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Sequence

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

from catalog.models import ProductImage, SyncStatus
from search import indexing
from search.ingest.claims import (
    Claim,
    lease_kept,
    tasks_claim,
    tasks_fail,
    tasks_retry_later,
    tasks_succeed,
    tasks_unfinished_exist,
)
from search.ingest.deferral import products_with_queued_images
from search.ingest.product_claims import image_syncs_claim, task_image_id
from search.ingest.schedule import ScheduleClock, tasks_due_enqueue
from search.tasks import image_sync_task

logger = logging.getLogger("lookalike.worker")

IMAGE_SYNC_TASK_PATH = image_sync_task.module_path


class SyncWorker:
    def __init__(self, *, worker_id: str, batch_size: int, lease_s: float, idle_sleep_s: float = 1.0) -> None:
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.idle_sleep_s = idle_sleep_s
        self.running = True
        self.graph_failures = 0  # consecutive batches that found Neo4j down: sets the retry delay
        self.schedule_clock = ScheduleClock(settings.LOOKALIKE_WORKER_SCHEDULE_CHECK_S)

    def run(self, *, exit_when_idle: bool = False) -> None:
        logger.info(
            "Worker %s started (batches of %d, lease %.0fs)", self.worker_id, self.batch_size, self.lease_s
        )
        while self.running:
            close_old_connections()
            if self.schedule_clock.due():
                self._schedule_check()
            if not self.step():
                # Nothing ready for this worker, but another may hold the last products (or a batch wait to
                # retry): exit only once nothing is queued or running, so a holder that dies is covered.
                if exit_when_idle and not tasks_unfinished_exist():
                    return
                time.sleep(self.idle_sleep_s)

    def _schedule_check(self) -> None:
        try:
            for path in tasks_due_enqueue():
                logger.info("Worker %s: scheduled task %s enqueued", self.worker_id, path)
        except Exception:  # a failed check must not stop the syncs; the next check tries again
            logger.exception("Worker %s: the schedule check failed", self.worker_id)

    def step(self) -> bool:
        """Run one claim's work; False when the queue had nothing ready."""
        # Deletes and edits first: they are cheap, and a long import must not hold them up.
        claim = self._claim(limit=1, exclude_task_paths=[IMAGE_SYNC_TASK_PATH])
        if claim:
            self._run_one(claim)
            return True
        started = time.perf_counter()
        claim = image_syncs_claim(worker_id=self.worker_id, limit=self.batch_size, lease_s=self.lease_s)
        if claim:
            self._sync_images(claim, started=started)
            return True
        return False

    def _claim(self, **kwargs) -> Claim | None:
        return tasks_claim(worker_id=self.worker_id, lease_s=self.lease_s, **kwargs)

    def _run_one(self, claim: Claim) -> None:
        task = claim.tasks[0]
        try:
            call = task.args_kwargs
            with lease_kept(claim, every_s=self.lease_s / 4):
                value = import_string(task.task_path).call(*call["args"], **call["kwargs"])
        except Exception as exc:
            logger.exception("Task %s (%s) failed", task.id, task.task_path)
            tasks_fail(
                claim, [task.id], exception_class_path=_class_path(exc), message=traceback.format_exc()
            )
        else:
            tasks_succeed(claim, [task.id], return_value=value)

    def _sync_images(self, claim: Claim, *, started: float) -> None:
        """Sync a claim's images; `started` is when its claim began (the log line splits the batch's time)."""
        tasks_by_image: dict[int, list] = {}
        for task in claim.tasks:
            tasks_by_image.setdefault(task_image_id(task), []).append(task)
        todo, skipped = self._still_to_sync(claim, tasks_by_image)
        if not todo and not skipped:
            return
        owed = set(skipped.values())
        with lease_kept(claim, every_s=self.lease_s / 4):
            try:
                report = indexing.images_sync(
                    todo, similar_later=products_with_queued_images, similar_also=owed
                )
            except Exception:
                logger.exception("Batch of %d images failed; syncing them one by one", len(todo))
                report = self._sync_one_by_one(todo, similar_also=owed)
        if report.graph_error:
            self._retry_later(
                claim,
                [i for i in [*todo, *skipped] if i not in report.failed],
                tasks_by_image,
                report.graph_error,
            )
        else:
            self.graph_failures = 0
            synced = [t.id for i in todo if i not in report.failed for t in tasks_by_image[i]]
            tasks_succeed(claim, synced, return_value={"synced_by": self.worker_id})
            already = [t.id for i in skipped for t in tasks_by_image[i]]
            tasks_succeed(claim, already, return_value={"skipped": "synced since queued"})
        for image_id, error in report.failed.items():
            ids = [t.id for t in tasks_by_image.get(image_id, [])]
            tasks_fail(claim, ids, exception_class_path="search.embeddings.InvalidImage", message=error)
        graph_s = report.embed_s + report.write_s + report.similar_s
        logger.info(
            "Worker %s: %d synced, %d failed, %d pending; embed %.2fs, write %.2fs, similar %.2fs, queue %.2fs; "
            "%d SIMILAR_TO refreshed",
            self.worker_id,
            report.synced,
            len(report.failed),
            report.pending,
            report.embed_s,
            report.write_s,
            report.similar_s,
            time.perf_counter() - started - graph_s,  # claiming, skipping, marking the tasks done
            report.refreshed,
        )

    def _still_to_sync(
        self, claim: Claim, tasks_by_image: dict[int, list]
    ) -> tuple[list[int], dict[int, int]]:
        """Image ids to sync, and {image id: product id} of those synced since their tasks were queued (not
        embedded again, but an earlier batch may have left their product's SIMILAR_TO refresh to these tasks).
        Tasks of images gone are done: the delete queued its own refresh (image_unindex_task)."""
        rows = {
            pk: (synced_at, product_id)
            for pk, synced_at, product_id in ProductImage.objects.filter(pk__in=list(tasks_by_image))
            .values_list("pk", "synced_at", "product_id")
            .iterator()
        }
        todo: list[int] = []
        skipped: dict[int, int] = {}
        for image_id, tasks in tasks_by_image.items():
            if image_id not in rows:
                continue
            synced_at, product_id = rows[image_id]
            if synced_at and all(t.enqueued_at <= synced_at for t in tasks):
                skipped[image_id] = product_id
            else:
                todo.append(image_id)
        gone = [t.id for i, tasks in tasks_by_image.items() if i not in rows for t in tasks]
        if gone:
            tasks_succeed(claim, gone, return_value={"skipped": "gone"})
        return todo, skipped

    def _sync_one_by_one(self, image_ids: Sequence[int], *, similar_also: set[int]) -> indexing.SyncReport:
        """After an unexpected error: whichever image causes it fails alone, the rest of its batch syncs."""
        report = indexing.SyncReport()
        for image_id in image_ids:
            try:
                one = indexing.images_sync([image_id], similar_later=products_with_queued_images)
            except Exception as exc:
                logger.exception("Image %s failed to sync", image_id)
                error = f"{exc.__class__.__name__}: {exc}"
                ProductImage.objects.filter(pk=image_id).update(
                    sync_status=SyncStatus.FAILED, sync_error=error[:2000]
                )
                report.failed[image_id] = error
                continue
            report.synced += one.synced
            report.failed.update(one.failed)
            report.pending += one.pending
            report.refreshed += one.refreshed
            report.graph_error = report.graph_error or one.graph_error
        if similar_also and not report.graph_error:
            owed = indexing.images_sync(
                [], similar_later=products_with_queued_images, similar_also=similar_also
            )
            report.graph_error = owed.graph_error
            report.refreshed += owed.refreshed
        return report

    def _retry_later(
        self, claim: Claim, image_ids: list[int], tasks_by_image: dict[int, list], error: str
    ) -> None:
        self.graph_failures += 1
        delay_s = min(
            settings.LOOKALIKE_GRAPH_RETRY_S * 2 ** (self.graph_failures - 1),
            settings.LOOKALIKE_GRAPH_RETRY_MAX_S,
        )
        logger.warning("Graph unavailable (%s); %d images retry in %.0fs", error, len(image_ids), delay_s)
        tasks_retry_later(claim, [t.id for i in image_ids for t in tasks_by_image[i]], delay_s=delay_s)


def _class_path(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"
