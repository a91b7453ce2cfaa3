from __future__ import annotations

import pytest

from catalog.models import SyncStatus
from tests.conftest import jpeg_bytes
from tests.factories import image_add_from_bytes, product_make

pytestmark = pytest.mark.django_db


def test_saving_an_image_syncs_only_after_commit(memory_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        image = image_add_from_bytes(product_make(), jpeg_bytes())
    assert image.pk not in memory_graph.image_ids()  # nothing happens inside the transaction
    for callback in callbacks:
        callback()
    image.refresh_from_db()
    assert image.sync_status == SyncStatus.SYNCED and image.pk in memory_graph.image_ids()


def test_deleting_a_product_removes_it_from_the_graph(memory_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        product = product_make()
        image_add_from_bytes(product, jpeg_bytes())
    assert product.pk in memory_graph.product_ids()
    with django_capture_on_commit_callbacks(execute=True):
        product.delete()
    assert memory_graph.product_ids() == set() and memory_graph.image_ids() == set()
