"""The sync worker (`manage.py sync_worker`): works the task queue that saves, the API and the admin fill.

Image syncs are claimed in batches, so a batch is embedded together, written to Neo4j in one round trip
and refreshes each touched product's SIMILAR_TO once; any other task (deletes, product edits) runs alone.
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
)
from search.ingest.schedule import ScheduleClock, tasks_due_enqueue
from search.tasks import image_sync_task

logger = logging.getLogger("lookalike.worker")

IMAGE_SYNC_TASK_PATH = image_sync_task.module_path


def _image_id(task) -> int:
    call = task.args_kwargs
    return int(call["kwargs"]["image_id"] if "image_id" in call["kwargs"] else call["args"][0])


class SyncWorker:
    def __init__(self, *, worker_id: str, batch_size: int, lease_s: float, idle_sleep_s: float = 1.0) -> None:
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.idle_sleep_s = idle_sleep_s
        self.running = True
        self.graph_failures = 0  # consecutive batches that found Neo4j down: sets the retry delay
        self.schedule_clock = ScheduleClock()

    def run(self, *, exit_when_idle: bool = False) -> None:
        logger.info(
            "Worker %s started (batches of %d, lease %.0fs)", self.worker_id, self.batch_size, self.lease_s
        )
        while self.running:
            close_old_connections()
            if self.schedule_clock.due():
                self._schedule_check()
            if not self.step():
                if exit_when_idle:
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
        claim = self._claim(limit=self.batch_size, task_paths=[IMAGE_SYNC_TASK_PATH])
        if claim:
            self._sync_images(claim)
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

    def _sync_images(self, claim: Claim) -> None:
        tasks_by_image: dict[int, list] = {}
        for task in claim.tasks:
            tasks_by_image.setdefault(_image_id(task), []).append(task)
        todo = self._still_to_sync(claim, tasks_by_image)
        if not todo:
            return
        with lease_kept(claim, every_s=self.lease_s / 4):
            try:
                report = indexing.images_sync(todo)
            except Exception:
                logger.exception("Batch of %d images failed; syncing them one by one", len(todo))
                report = self._sync_one_by_one(todo)
        if report.graph_error:
            self._retry_later(
                claim, [i for i in todo if i not in report.failed], tasks_by_image, report.graph_error
            )
        else:
            self.graph_failures = 0
            synced = [t.id for i in todo if i not in report.failed for t in tasks_by_image[i]]
            tasks_succeed(claim, synced, return_value={"synced_by": self.worker_id})
        for image_id, error in report.failed.items():
            ids = [t.id for t in tasks_by_image.get(image_id, [])]
            tasks_fail(claim, ids, exception_class_path="search.embeddings.InvalidImage", message=error)
        logger.info(
            "Worker %s: %d synced, %d failed, %d pending; embed %.2fs, write %.2fs, similar %.2fs",
            self.worker_id,
            report.synced,
            len(report.failed),
            report.pending,
            report.embed_s,
            report.write_s,
            report.similar_s,
        )

    def _still_to_sync(self, claim: Claim, tasks_by_image: dict[int, list]) -> list[int]:
        """Image ids to sync; tasks whose image is gone, or was synced after they were queued, are done."""
        rows = dict(
            ProductImage.objects.filter(pk__in=list(tasks_by_image)).values_list("pk", "synced_at").iterator()
        )
        todo: list[int] = []
        done: list[int] = []
        for image_id, tasks in tasks_by_image.items():
            synced_at = rows.get(image_id, False)
            if synced_at is False or (synced_at and all(t.enqueued_at <= synced_at for t in tasks)):
                done.extend(t.id for t in tasks)
            else:
                todo.append(image_id)
        if done:
            tasks_succeed(claim, done, return_value={"skipped": "gone or already synced"})
        return todo

    def _sync_one_by_one(self, image_ids: Sequence[int]) -> indexing.SyncReport:
        """After an unexpected error: whichever image causes it fails alone, the rest of its batch syncs."""
        report = indexing.SyncReport()
        for image_id in image_ids:
            try:
                one = indexing.images_sync([image_id])
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
            report.graph_error = report.graph_error or one.graph_error
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
