"""Catalog writes: the import stores each row's photo once, with its hash, and skips rows already there."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

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
