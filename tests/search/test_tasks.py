"""Queueing image syncs (search/tasks.py) on the database backend."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django_tasks_db.models import DBTaskResult

from search.ingest.product_claims import image_syncs_claim, task_image_id
from search.tasks import image_sync_task, images_sync_enqueue_many, sync_deferred
from tests.factories import image_add_from_bytes, product_make

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _row(task: DBTaskResult) -> dict:
    return {k: v for k, v in model_to_dict(task).items() if k not in {"id", "args_kwargs"}}


def test_syncs_queued_in_one_insert_are_the_rows_enqueue_writes_and_are_claimed(settings):
    settings.TASKS = QUEUE
    with sync_deferred():
        product = product_make("Queued in bulk")
        ids = [image_add_from_bytes(product, b"not decoded here").pk for _ in range(3)]
    one = DBTaskResult.objects.get(id=image_sync_task.enqueue(image_id=ids[0]).id)
    DBTaskResult.objects.all().delete()

    images_sync_enqueue_many(ids)

    queued = list(DBTaskResult.objects.order_by("args_kwargs__kwargs__image_id"))
    assert [task.args_kwargs for task in queued] == [{"args": [], "kwargs": {"image_id": i}} for i in ids]
    assert one.args_kwargs == queued[0].args_kwargs
    assert [_row(task) for task in queued] == [_row(one)] * 3
    claim = image_syncs_claim(worker_id="w", limit=10, lease_s=60)
    assert claim is not None and sorted(task_image_id(task) for task in claim.tasks) == ids
