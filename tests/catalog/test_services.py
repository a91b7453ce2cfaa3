"""Catalog writes: the import stores each row's photo once, with its hash, and skips rows already there."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from django.db import DatabaseError

from catalog import services
from catalog.importers import CatalogRow
from catalog.models import ProductImage

pytestmark = pytest.mark.django_db


def test_an_imported_row_is_hashed_once_and_imported_once(grocery_dir, monkeypatch):
    photo = next((grocery_dir / "train").glob("*/*/*_001.jpg"))
    row = CatalogRow(image=photo, name="Imported apple", category="Fruit", price=Decimal("1.00"))
    hashed: list[str] = []
    real = services.file_sha256
    monkeypatch.setattr(services, "file_sha256", lambda file: hashed.append("x") or real(file))

    assert services.catalog_row_import(row=row) is True
    assert len(hashed) == 1  # the skip check's hash is the one stored
    image = ProductImage.objects.get(product__name="Imported apple")
    assert image.content_hash == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert services.catalog_row_import(row=row) is False  # the same bytes again: skipped
    assert ProductImage.objects.filter(product__name="Imported apple").count() == 1


def test_a_products_imported_photos_take_the_next_positions_and_a_repeat_is_skipped(grocery_dir):
    photos = sorted((grocery_dir / "train").glob("*/*/*.jpg"))[:3]
    rows = [
        CatalogRow(image=p, name="Imported pear", category="Fruit", price=Decimal("1.00")) for p in photos
    ]

    assert [services.catalog_row_import(row=row) for row in [*rows, rows[1]]] == [True, True, True, False]
    images = ProductImage.objects.filter(product__name="Imported pear").order_by("pk")
    assert [(image.position, image.content_hash) for image in images] == [
        (n, hashlib.sha256(photo.read_bytes()).hexdigest()) for n, photo in enumerate(photos)
    ]


def _rows(photos, name: str) -> list[CatalogRow]:
    return [CatalogRow(image=p, name=name, category="Fruit", price=Decimal("1.00")) for p in photos]


def _sha256(photo) -> str:
    return hashlib.sha256(photo.read_bytes()).hexdigest()


def test_a_chunk_of_rows_is_imported_in_a_few_queries_whatever_its_length(
    grocery_dir, django_assert_max_num_queries
):
    photos = sorted((grocery_dir / "train").glob("*/*/*.jpg"))[:30]
    services.catalog_rows_import(rows=_rows(photos[:2], "Chunked plum"))
    rows = [*_rows(photos[2:], "Chunked plum"), *_rows(photos[:1], "Chunked plum")]  # the first repeated
    rows += _rows(photos[:3], "Chunked kiwi")
    added: list[list[int]] = []

    # 13 queries; row by row ~8 per row (the product, its photos, a savepoint, the INSERT...): ~250 here.
    with django_assert_max_num_queries(20):
        imported = services.catalog_rows_import(rows=rows, on_added=added.append)

    assert (len(imported.added), imported.skipped, imported.problems) == (31, 1, [])
    assert added == [imported.added]
    plum = ProductImage.objects.filter(product__name="Chunked plum").order_by("position")
    assert [(i.position, i.content_hash) for i in plum] == [(n, _sha256(p)) for n, p in enumerate(photos)]
    kiwi = ProductImage.objects.filter(product__name="Chunked kiwi").order_by("position")
    assert [(i.position, i.content_hash) for i in kiwi] == [(n, _sha256(p)) for n, p in enumerate(photos[:3])]
    assert services.catalog_rows_import(rows=rows).skipped == len(rows)  # run again: nothing new


def test_a_row_whose_file_cannot_be_read_fails_alone(grocery_dir, tmp_path):
    photos = sorted((grocery_dir / "train").glob("*/*/*.jpg"))[:2]
    rows = _rows([photos[0], tmp_path / "gone.jpg", photos[1]], "Chunked fig")

    imported = services.catalog_rows_import(rows=rows)

    assert len(imported.added) == 2 and imported.skipped == 0
    assert len(imported.problems) == 1 and imported.problems[0].startswith(f"{tmp_path / 'gone.jpg'}: ")
    assert ProductImage.objects.filter(product__name="Chunked fig").count() == 2


def test_a_chunk_that_fails_is_imported_again_row_by_row_leaving_no_stray_files(grocery_dir, settings):
    photos = sorted((grocery_dir / "train").glob("*/*/*.jpg"))[:4]
    rows = [*_rows(photos[:3], "Chunked lime"), *_rows(photos[3:], "Bad lemon")]
    stored = set((Path(settings.MEDIA_ROOT) / "products").glob("*"))
    queued: list[int] = []
    chunk_failed: list[bool] = []

    def on_added(image_ids: list[int]) -> None:
        if len(image_ids) > 1:
            chunk_failed.append(True)
            raise DatabaseError("the chunk's task INSERT failed")  # after its 4 files were stored
        queued.extend(image_ids)

    def product_create(**fields):
        if fields["name"] == "Bad lemon" and chunk_failed:
            raise ValueError("bad price")
        return real_product_create(**fields)

    real_product_create = services.product_create
    with patch.object(services, "product_create", product_create):
        imported = services.catalog_rows_import(rows=rows, on_added=on_added)

    assert chunk_failed and imported.problems == [f"{photos[3]}: bad price"]  # alone, row by row
    images = ProductImage.objects.filter(product__name="Chunked lime")
    assert sorted(imported.added) == sorted(queued) == sorted(images.values_list("pk", flat=True))
    assert len(queued) == 3 and not ProductImage.objects.filter(product__name="Bad lemon").exists()
    on_disk = set((Path(settings.MEDIA_ROOT) / "products").glob("*")) - stored
    assert {p.name for p in on_disk} == {Path(i.image.name).name for i in images}
