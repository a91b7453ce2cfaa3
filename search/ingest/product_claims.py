"""Claiming image syncs by product, so that no product's images are in two batches at once.

A batch refreshes the SIMILAR_TO lists of the products it touched, unless more of a product's images are
still queued (search/ingest/deferral.py). Two batches holding images of one product at the same time both
find none of its images queued when they end, and both refresh it. With workers claiming the oldest tasks
side by side from a queue that an import fills product by product, that was most products: two workers
spent twice one worker's Neo4j CPU per image (docs/benchmarks.md, "Ingestion through the queue").

So a claim takes whole products: each product's queued images together, products in queue order while they
fit in the batch (a first product larger than the batch fills it, and its rest waits for the next claim),
and never a product that another live claim holds. A product is held while one of its syncs is RUNNING
under a lease that has not run out: a SIGKILLed worker's products are claimable again with its tasks.

Choosing what is not held and taking it must not interleave between workers (SKIP LOCKED skips rows, not
products), so image claims take turns: a transaction-level advisory lock on PostgreSQL; SQLite's claim
transaction is exclusive already. A claim is a handful of short queries, far below a batch's seconds.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from catalog.models import ProductImage
from search.ingest.claims import Claim, claimable, claimable_locked, tasks_take
from search.tasks import image_sync_task

# Any fixed number other than search/ingest/schedule.py's: the lock image claims take turns on.
_CLAIM_LOCK_KEY = 1412


def task_image_id(task: DBTaskResult) -> int:
    call = task.args_kwargs
    return int(call["kwargs"]["image_id"] if "image_id" in call["kwargs"] else call["args"][0])


def image_syncs_claim(
    *, worker_id: str, limit: int, lease_s: float, backend_name: str = "default"
) -> Claim | None:
    """Take the queued syncs of whole products, oldest first, up to `limit` images, skipping held products."""
    now = timezone.now()
    with exclusive_transaction():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLAIM_LOCK_KEY])
        syncs = DBTaskResult.objects.filter(backend_name=backend_name, task_path=image_sync_task.module_path)
        held = syncs.filter(status=TaskResultStatus.RUNNING, started_at__gte=now - timedelta(seconds=lease_s))
        held_images = _siblings(_image_ids(held))
        unheld = syncs.exclude(args_kwargs__kwargs__image_id__in=list(held_images)) if held_images else syncs
        head = claimable_locked(unheld, now=now, lease_s=lease_s, limit=limit)
        if not head:
            return None
        # All the queued syncs of the head's products: some may come later in the queue, or beyond the head
        # (found by image id: search/migrations/_task_indexes.py).
        product_of = _siblings([task_image_id(task) for task in head])
        rest = unheld.filter(
            claimable(now=now, lease_s=lease_s), args_kwargs__kwargs__image_id__in=list(product_of)
        ).exclude(id__in=[task.id for task in head])
        tasks = _whole_products([*head, *rest.select_for_update(skip_locked=True)], product_of, limit=limit)
        return tasks_take(tasks, worker_id=worker_id, now=now)


def _whole_products(
    tasks: list[DBTaskResult], product_of: dict[int, int], *, limit: int
) -> list[DBTaskResult]:
    """Group tasks by product, products in order of their first task; whole groups while they fit."""
    groups: dict[object, list[DBTaskResult]] = {}
    for task in tasks:
        image_id = task_image_id(task)
        # An image gone has no product: its task is a group of its own (the worker marks it done).
        groups.setdefault(product_of.get(image_id, ("gone", image_id)), []).append(task)
    taken: list[DBTaskResult] = []
    for group in groups.values():
        if taken and len(taken) + len(group) > limit:
            break
        taken.extend(group[: limit - len(taken)])
    return taken


def _image_ids(tasks: QuerySet[DBTaskResult]) -> list[int]:
    return [int(i) for i in tasks.values_list("args_kwargs__kwargs__image_id", flat=True)]


def _siblings(image_ids: list[int]) -> dict[int, int]:
    """{image id: product id} of every image of these images' products."""
    if not image_ids:
        return {}
    products = ProductImage.objects.filter(pk__in=image_ids).values("product_id")
    return dict(ProductImage.objects.filter(product_id__in=products).values_list("pk", "product_id"))
