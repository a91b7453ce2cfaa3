"""Staff-triggered re-embedding and re-syncing of images (admin actions); the work runs after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from catalog.models import ProductImage, SyncStatus
from search.tasks import image_sync_on_commit


@transaction.atomic
def images_resync(*, image_ids: Iterable[int]) -> int:
    """Project the images into the graph again, keeping their cached embeddings."""
    ids = list(image_ids)
    ProductImage.objects.filter(pk__in=ids).update(sync_status=SyncStatus.PENDING, sync_error="")
    for image_id in ids:
        image_sync_on_commit(image_id)
    return len(ids)


@transaction.atomic
def images_reembed(*, image_ids: Iterable[int]) -> int:
    """Drop the cached embeddings, so the model runs on the stored files again, then sync."""
    ids = list(image_ids)
    ProductImage.objects.filter(pk__in=ids).update(embedding=None)
    return images_resync(image_ids=ids)
