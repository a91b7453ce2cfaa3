"""import_catalog with the queue: rows go in chunks, each chunk's syncs queued in the chunk's transaction."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from catalog.models import ProductImage
from search.tasks import image_sync_task

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _catalog_csv(grocery_dir, path, *, rows: int):
    photos = sorted((grocery_dir / "train").glob("*/*/*.jpg"))[:rows]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "name", "category"])
        for n, photo in enumerate(photos):
            writer.writerow([photo.relative_to(grocery_dir), f"Queued product {n % 7}", "Tests"])
    return path


def _queued_image_ids() -> list[int]:
    tasks = DBTaskResult.objects.filter(task_path=image_sync_task.module_path, status="READY")
    return sorted(task.args_kwargs["kwargs"]["image_id"] for task in tasks)


def test_an_import_queues_each_new_image_once_in_few_queries_and_again_nothing(
    grocery_dir, tmp_path, settings, django_assert_max_num_queries
):
    settings.TASKS = QUEUE
    catalog = _catalog_csv(grocery_dir, tmp_path / "catalog.csv", rows=150)
    before = set(ProductImage.objects.values_list("pk", flat=True))

    # Row by row: 1,256 queries (8 per row); in chunks of 100: 75, most of them creating the 7 products.
    with django_assert_max_num_queries(100):
        call_command("import_catalog", str(grocery_dir), "--csv", str(catalog), stdout=io.StringIO())

    new = sorted(set(ProductImage.objects.values_list("pk", flat=True)) - before)
    assert len(new) == 150 and _queued_image_ids() == new
    out = io.StringIO()
    call_command("import_catalog", str(grocery_dir), "--csv", str(catalog), stdout=out)
    assert "Imported 0 new images from 150 rows (150 already there)" in out.getvalue()
    assert _queued_image_ids() == new
