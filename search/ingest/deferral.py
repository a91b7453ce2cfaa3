"""Defer a product's SIMILAR_TO refresh while more of its images wait in the queue.

A bulk import queues a product's photos one by one, and a worker's batch holds only some of them. Refreshing
the product after each batch queries the index once per image it has so far, again and again; only the
refresh after its last image counts. So a batch leaves the refresh to a later one when another image of the
product still has a sync task READY (queued, not claimed): whichever batch takes that task considers the
product again, whether its image syncs, fails or turns out to be synced already (search/ingest/worker.py).
Claimed (RUNNING) tasks do not defer. Claims take whole products and never one another claim holds
(search/ingest/product_claims.py), so a product is in one batch at a time; should two batches still hold it
at once (a worker presumed dead whose lease ran out comes back), both refresh it, and the one that finishes
last sees the other's images.
"""

from __future__ import annotations

from collections.abc import Collection

from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from catalog.models import ProductImage, SyncStatus
from search.tasks import image_sync_task


def products_with_queued_images(product_ids: Collection[int], image_ids: Collection[int]) -> set[int]:
    """The products, among `product_ids`, with an image other than `image_ids` whose sync is still queued."""
    # Unsynced images only: a synced image queued again (a re-save) is rare, and missing it only means a
    # refresh that could have waited.
    waiting = dict(
        ProductImage.objects.filter(product_id__in=list(product_ids))
        .exclude(pk__in=list(image_ids))
        .exclude(sync_status=SyncStatus.SYNCED)
        .values_list("pk", "product_id")
    )
    if not waiting:
        return set()
    queued = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY,
        task_path=image_sync_task.module_path,
        args_kwargs__kwargs__image_id__in=list(waiting),
    ).values_list("args_kwargs__kwargs__image_id", flat=True)
    return {waiting[int(image_id)] for image_id in queued}
