from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from catalog.models import Product, ProductImage
from catalog.services import category_get_or_create, product_create, product_image_add


def product_make(name: str = "Test product", *, category: str = "Tests", price: str = "1.00") -> Product:
    return product_create(name=name, price=Decimal(price), category=category_get_or_create(name=category))


def image_add_from_path(product: Product, path: Path) -> ProductImage:
    with path.open("rb") as handle:
        return product_image_add(product=product, file=handle, filename=path.name)


def image_add_from_bytes(product: Product, data: bytes, filename: str = "photo.jpg") -> ProductImage:
    return product_image_add(product=product, file=io.BytesIO(data), filename=filename)
