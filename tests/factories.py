from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import numpy as np
from django.utils import timezone

from catalog.models import Product, ProductImage, SyncStatus
from catalog.services import category_get_or_create, product_create, product_image_add
from search.models import FitStatus, ProjectionFit
from search.projection import normalised
from search.stored_vectors import vector_to_bytes


def product_make(name: str = "Test product", *, category: str = "Tests", price: str = "1.00") -> Product:
    return product_create(name=name, price=Decimal(price), category=category_get_or_create(name=category))


def image_add_from_path(product: Product, path: Path) -> ProductImage:
    with path.open("rb") as handle:
        return product_image_add(product=product, file=handle, filename=path.name)


def image_add_from_bytes(product: Product, data: bytes, filename: str = "photo.jpg") -> ProductImage:
    return product_image_add(product=product, file=io.BytesIO(data), filename=filename)


def served_fit_make(matrix: np.ndarray, *, products: int = 2, images: int = 4, **fields) -> ProjectionFit:
    """A served EfficientNet-Lite0 projection fit with this square matrix (and no centring)."""
    dimensions = matrix.shape[0]
    return ProjectionFit.objects.create(
        backbone="efficientnet_lite0",
        grouping="product",
        shrinkage=0.2,
        dimensions=dimensions,
        products=products,
        images=images,
        mean=vector_to_bytes(np.zeros(dimensions)),
        matrix=vector_to_bytes(matrix.astype(np.float32).ravel()),
        status=FitStatus.SERVED,
        **fields,
    )


def embedded_catalog_make(
    *, products: int, photos: int, backbone: str = "efficientnet_lite0", dimensions: int = 1280
) -> None:
    """Synced images with stored vectors that group by product (4 categories), no photo files: what a fit reads."""
    rng = np.random.default_rng(0)
    images = []
    for index in range(products):
        product = product_make(f"P{index}", category=f"C{index % 4}")
        centre = normalised(rng.normal(size=dimensions))
        for photo in range(photos):
            vector = normalised(centre + rng.normal(size=dimensions) * 0.8 / np.sqrt(dimensions))
            images.append(
                ProductImage(
                    product=product,
                    image=f"p{index}-{photo}.jpg",
                    position=photo,
                    sync_status=SyncStatus.SYNCED,
                    synced_at=timezone.now(),
                    embedding_model=backbone,
                    embedding=vector_to_bytes(vector),
                )
            )
    ProductImage.objects.bulk_create(images)
