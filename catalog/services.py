"""Catalog writes. Admin (forms, inlines, deletes), API and commands all come through here: files go with
their rows, and graph sync follows from the signals (search/signals.py) after commit."""

from __future__ import annotations

import hashlib
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
    with row.image.open("rb") as handle:
        content_hash = file_sha256(handle)
        with transaction.atomic():
            product = Product.objects.filter(slug=slugify(row.name)[:200]).first()
            position = 0
            if product is None:
                product = product_create(
                    name=row.name,
                    slug=slugify(row.name)[:200] or None,
                    price=row.price,
                    category=category_get_or_create(name=row.category),
                    description=row.description,
                    in_stock=row.in_stock,
                )
            else:
                # One query for both: is this photo there already, and where does it go (an import is mostly
                # photos of products it created a few rows earlier).
                images = product.images.aggregate(
                    count=Count("pk"), same=Count("pk", filter=Q(content_hash=content_hash))
                )
                if images["same"]:
                    return False
                position = images["count"]
            product_image_add(
                product=product,
                file=handle,
                filename=row.image.name,
                content_hash=content_hash,
                position=position,
            )
    return True
