"""Catalog writes. Admin (forms, inlines, deletes), API and commands all come through here: files go with
their rows, and graph sync follows from the signals (search/signals.py) after commit."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from decimal import Decimal
from typing import BinaryIO

from django.core.files import File
from django.db import transaction
from django.db.models import Count, Q
from django.utils.text import slugify

from catalog.importers import CatalogRow
from catalog.models import Category, Product, ProductImage


def file_sha256(file: BinaryIO | File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1 << 20), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


@transaction.atomic
def category_save(*, category: Category) -> Category:
    """Create or rename a category; its products' graph nodes follow after commit (search/signals.py)."""
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Only a category without products can go (Product.category is PROTECT)."""
    category.delete()


def category_get_or_create(*, name: str) -> Category:
    name = name.strip() or "Uncategorised"
    category, _ = Category.objects.get_or_create(
        slug=slugify(name)[:100] or "uncategorised", defaults={"name": name[:100]}
    )
    return category


def _unique_slug(name: str) -> str:
    base = slugify(name)[:180] or "product"
    slug, n = base, 2
    while Product.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def product_create(
    *,
    name: str,
    price: Decimal,
    category: Category,
    description: str = "",
    in_stock: bool = True,
    slug: str | None = None,
) -> Product:
    product = Product(
        name=name,
        slug=slug or "",
        description=description,
        price=price,
        category=category,
        in_stock=in_stock,
    )
    return product_save(product=product)


@transaction.atomic
def product_save(*, product: Product) -> Product:
    """Validate and save a product whose fields are set (the admin's form does that); creates and updates
    end here. A blank slug is made from the name."""
    if not product.slug:
        product.slug = _unique_slug(product.name)
    product.full_clean()
    product.save()
    return product


PRODUCT_EDITABLE_FIELDS = ("name", "slug", "description", "price", "category", "in_stock")


@transaction.atomic
def product_update(*, product: Product, **changes: object) -> Product:
    unknown = set(changes) - set(PRODUCT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(product, field, value)
    return product_save(product=product)


@transaction.atomic
def product_delete(*, product: Product) -> None:
    """Delete a product, its images and their files; the graph follows after commit."""
    files = [image.image for image in product.images.all()]
    product.delete()
    transaction.on_commit(lambda: [f.delete(save=False) for f in files])


@transaction.atomic
def product_image_delete(*, image: ProductImage) -> None:
    stored = image.image
    image.delete()
    transaction.on_commit(lambda: stored.delete(save=False))


@transaction.atomic
def product_image_update(
    *,
    image: ProductImage,
    file: BinaryIO | File | None = None,
    filename: str = "",
    position: int | None = None,
) -> ProductImage:
    """Move an image, or replace its file (the old file is removed after commit; the new one is embedded)."""
    if position is not None:
        image.position = position
    replaced = None
    if file is not None:
        replaced = ProductImage.objects.get(pk=image.pk).image
        image.content_hash = file_sha256(file)
        image.image = File(file, name=filename or "upload")
        # The stored vector is the old photo's; with the new hash recorded the sync would take it as current.
        image.embedding, image.embedding_model = None, ""
    image.save()
    if replaced:
        transaction.on_commit(lambda: replaced.delete(save=False))
    return image


@transaction.atomic
def product_image_add(
    *,
    product: Product,
    file: BinaryIO | File,
    filename: str,
    position: int | None = None,
    content_hash: str = "",
) -> ProductImage:
    """Store an image for a product; its embedding and graph sync run after the commit. `content_hash`: the
    file's SHA-256 when the caller has just computed it (the import does, to skip rows already there)."""
    if position is None:
        position = product.images.count()
    # Assigned rather than saved through the field, so its upload_to can read the bytes for the extension.
    image = ProductImage(
        product=product,
        position=position,
        content_hash=content_hash or file_sha256(file),
        image=File(file, name=filename),
    )
    image.save()
    return image


def catalog_row_import(*, row: CatalogRow) -> bool:
    """Add one catalogue row; rows already imported (same product, same image bytes) are skipped."""
    return _row_import(row=row) is not None


def _row_import(*, row: CatalogRow) -> ProductImage | None:
    with row.image.open("rb") as handle:
        content_hash = file_sha256(handle)
        with transaction.atomic():
            product = Product.objects.filter(slug=slugify(row.name)[:200]).first()
            position = 0
            if product is None:
                product = _product_from_row(row)
            else:
                # One query for both: is this photo there already, and where does it go (an import is mostly
                # photos of products it created a few rows earlier).
                images = product.images.aggregate(
                    count=Count("pk"), same=Count("pk", filter=Q(content_hash=content_hash))
                )
                if images["same"]:
                    return None
                position = images["count"]
            return product_image_add(
                product=product,
                file=handle,
                filename=row.image.name,
                content_hash=content_hash,
                position=position,
            )


def _product_from_row(row: CatalogRow) -> Product:
    return product_create(
        name=row.name,
        slug=slugify(row.name)[:200] or None,
        price=row.price,
        category=category_get_or_create(name=row.category),
        description=row.description,
        in_stock=row.in_stock,
    )


@dataclasses.dataclass
class RowsImported:
    added: list[int] = dataclasses.field(default_factory=list)  # the new images' ids
    skipped: int = 0  # already there
    problems: list[str] = dataclasses.field(default_factory=list)  # "<file>: <error>", one per row left out


def catalog_rows_import(
    *, rows: Sequence[CatalogRow], on_added: Callable[[list[int]], object] | None = None
) -> RowsImported:
    """Add a chunk of catalogue rows in one transaction: each product looked up once, the new images in one
    INSERT, then `on_added(their ids)` inside the same transaction (the import queues their syncs there, so
    they commit together). The INSERT sends no post_save, but the row-by-row retry below saves each image:
    a caller queueing in `on_added` defers the signals' syncs meanwhile (search.tasks.sync_deferred).
    A row whose file cannot be read is reported and left out. Any other error rolls the chunk back (and
    removes the files it stored) and imports it again row by row, so a bad row fails alone, as it would
    have on its own. Rows already imported (same product, same image bytes) are skipped."""
    result = RowsImported()
    with ExitStack() as files:
        hashed = []
        for row in rows:
            try:
                handle = files.enter_context(row.image.open("rb"))
                hashed.append((row, handle, file_sha256(handle)))
            except OSError as exc:
                result.problems.append(f"{row.image}: {exc}")
        new: list[ProductImage] = []
        try:
            with transaction.atomic():
                result.skipped = _images_new(hashed, new)
                ProductImage.objects.bulk_create(new)
                result.added = [image.pk for image in new]
                if on_added and result.added:
                    on_added(result.added)
        except BaseException as exc:
            for image in new:  # their rows went with the rollback; files already stored would stay behind
                # FieldFile.save marks its file committed once the storage has it (in the INSERT's pre_save).
                if image.image.name and getattr(image.image, "_committed", False):
                    image.image.storage.delete(image.image.name)
            if not isinstance(exc, Exception):
                raise
            return _rows_import_one_by_one(rows, on_added=on_added)
    return result


def _images_new(hashed: Sequence[tuple[CatalogRow, BinaryIO, str]], new: list[ProductImage]) -> int:
    """Fill `new` with the unsaved images of rows not imported yet, creating their products; returns how many
    rows were already there. Two queries for the chunk's existing products and their photos' hashes."""
    slugs = {slugify(row.name)[:200] for row, _, _ in hashed} - {""}
    products = Product.objects.in_bulk(list(slugs), field_name="slug")
    hashes: dict[int, list[str]] = {product.pk: [] for product in products.values()}
    for product_id, content_hash in ProductImage.objects.filter(product__in=list(hashes)).values_list(
        "product_id", "content_hash"
    ):
        hashes[product_id].append(content_hash)
    skipped = 0
    for row, handle, content_hash in hashed:
        slug = slugify(row.name)[:200]
        product = products.get(slug) if slug else None
        if product is None:
            product = _product_from_row(row)
            hashes[product.pk] = []
            if slug:
                products[slug] = product
        if content_hash in hashes[product.pk]:
            skipped += 1
            continue
        image = ProductImage(
            product=product,
            position=len(hashes[product.pk]),
            content_hash=content_hash,
            image=File(handle, name=row.image.name),
        )
        hashes[product.pk].append(content_hash)
        new.append(image)
    return skipped


def _rows_import_one_by_one(
    rows: Sequence[CatalogRow], *, on_added: Callable[[list[int]], object] | None
) -> RowsImported:
    result = RowsImported()
    for row in rows:
        try:
            with transaction.atomic():
                image = _row_import(row=row)
                if image is not None and on_added:
                    on_added([image.pk])
        except (OSError, ValueError) as exc:
            result.problems.append(f"{row.image}: {exc}")
            continue
        if image is None:
            result.skipped += 1
        else:
            result.added.append(image.pk)
    return result
