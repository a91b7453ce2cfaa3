"""Background work, by primary key only. With the database backend (the default) `manage.py sync_worker`
processes run it, image syncs in batches (search/ingest/); with the immediate one it runs right after commit."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend

from search import indexing
from search.graph import GraphUnavailable

logger = logging.getLogger("lookalike.tasks")

# Bulk work (import_catalog) turns per-row syncing off and syncs everything in batches afterwards.
_sync_deferred = contextvars.ContextVar("sync_deferred", default=False)


@contextmanager
def sync_deferred() -> Iterator[None]:
    token = _sync_deferred.set(True)
    try:
        yield
    finally:
        _sync_deferred.reset(token)


def _enqueue_on_commit(task_obj: Any, **kwargs: Any) -> None:
    if not _sync_deferred.get():
        transaction.on_commit(lambda: task_obj.enqueue(**kwargs))


def _tolerating_outage(description: str, func: Callable[..., object], **kwargs: Any) -> None:
    # Deletes and renames that miss the graph are caught up by `sync_graph` (orphans, product upserts).
    try:
        func(**kwargs)
    except GraphUnavailable as exc:
        logger.warning("%s postponed, graph unavailable: %s", description, exc)


@task()
def image_sync_task(image_id: int) -> None:
    indexing.image_sync(image_id=image_id)


@task()
def image_unindex_task(image_id: int, product_id: int) -> None:
    _tolerating_outage("Image removal", indexing.image_unindex, image_id=image_id, product_id=product_id)


@task()
def product_sync_task(product_id: int) -> None:
    _tolerating_outage("Product update", indexing.product_sync, product_id=product_id)


@task()
def category_sync_task(category_id: int) -> None:
    _tolerating_outage("Category update", indexing.category_sync, category_id=category_id)


@task()
def product_unindex_task(product_id: int) -> None:
    _tolerating_outage("Product removal", indexing.product_unindex, product_id=product_id)


def image_sync_on_commit(image_id: int) -> None:
    _enqueue_on_commit(image_sync_task, image_id=image_id)


def image_unindex_on_commit(image_id: int, product_id: int) -> None:
    _enqueue_on_commit(image_unindex_task, image_id=image_id, product_id=product_id)


def product_sync_on_commit(product_id: int) -> None:
    _enqueue_on_commit(product_sync_task, product_id=product_id)


def category_sync_on_commit(category_id: int) -> None:
    _enqueue_on_commit(category_sync_task, category_id=category_id)


def product_unindex_on_commit(product_id: int) -> None:
    _enqueue_on_commit(product_unindex_task, product_id=product_id)


def tasks_run_in_process() -> bool:
    """True with the immediate backend: there is no queue and no worker, the caller does the work."""
    return isinstance(image_sync_task.get_backend(), ImmediateBackend)


@transaction.atomic
def images_sync_enqueue(image_ids: Iterable[int]) -> int:
    """Queue a sync of each image that has none queued or running yet (an interrupted import, run again)."""
    from django_tasks_db.models import DBTaskResult

    outstanding = set(
        DBTaskResult.objects.filter(task_path=image_sync_task.module_path, status__in=["READY", "RUNNING"])
        .values_list("args_kwargs__kwargs__image_id", flat=True)
        .iterator()
    )
    unqueued = [image_id for image_id in image_ids if image_id not in outstanding]
    images_sync_enqueue_many(unqueued)
    return len(unqueued)


def images_sync_enqueue_many(image_ids: Sequence[int]) -> None:
    """Queue a sync of each image now, in the caller's transaction: with the database backend one INSERT for
    all (the rows `enqueue` would write, one by one), with any other backend one `enqueue` each."""
    from django_tasks.signals import task_enqueued
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = image_sync_task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        for image_id in image_ids:
            image_sync_task.enqueue(image_id=image_id)
        return
    backend.validate_task(image_sync_task)
    queued = DBTaskResult.objects.bulk_create(
        DBTaskResult(
            id=backend._get_id(),
            args_kwargs={"args": [], "kwargs": {"image_id": image_id}},
            priority=image_sync_task.priority,
            task_path=image_sync_task.module_path,
            queue_name=image_sync_task.queue_name,
            # enqueue's pre_save receiver (django_tasks_db/signal_handlers.py) turns "no delay" into date max.
            run_after=image_sync_task.run_after or get_date_max(),
            backend_name=backend.alias,
        )
        for image_id in image_ids
    )
    for task_result in queued:
        task_enqueued.send(type(backend), task_result=task_result.task_result)
