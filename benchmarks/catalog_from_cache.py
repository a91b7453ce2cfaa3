"""A catalog made from cached embeddings (benchmarks/embedding_cache.py), no CNN: products, categories and
images whose stored raw vectors are the cached ones, then the identity version written as indexing writes it.

Import after `benchmarks._setup.django_temp()` (this module needs Django set up).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils.text import slugify

from catalog.models import Category, Product, ProductImage, SyncStatus
from search import fitting
from search.graph import graph_store
from search.indexing import images_project, schema_forget
from search.progress import progress_bar
from search.serving import serving_forget
from search.similar_edges import similar_rebuild_all, similar_rebuild_exact
from search.stored_vectors import vector_from_bytes, vector_to_bytes
from search.tasks import sync_deferred


@dataclass(frozen=True)
class CachedImage:
    product: str
    category: str
    filename: str  # relative to the dataset folder
    vector: np.ndarray  # raw backbone vector


def progress_factory(total: int, description: str, unit: str):  # type: ignore[no-untyped-def]
    return progress_bar(total=total, description=description, unit=unit)


def _media_link(dataset: Path) -> str:
    """The dataset visible under MEDIA_ROOT (a symlink), so image rows name the real photos."""
    media = Path(settings.MEDIA_ROOT)
    media.mkdir(parents=True, exist_ok=True)
    link = media / "dataset"
    if not link.exists():
        os.symlink(dataset.resolve(), link)
    return "dataset"


def graph_and_catalog_empty() -> None:
    store = graph_store()
    for model in store.image_models():
        store.model_drop(model)
        schema_forget(model)
    store.clear()
    schema_forget(settings.LOOKALIKE_BACKBONE)
    with sync_deferred():
        Product.objects.all().delete()
        Category.objects.all().delete()
    serving_forget()


def catalog_load(images: Sequence[CachedImage], dataset: Path) -> dict[str, int]:
    """Empty graph and catalog, then the images' products with their cached vectors stored as if embedded.
    Returns each product's primary key by name."""
    graph_and_catalog_empty()
    prefix = _media_link(dataset)
    categories = {
        name: Category.objects.create(name=name, slug=slugify(name))
        for name in sorted({i.category for i in images})
    }
    products: dict[str, Product] = {}
    for image in images:
        if image.product not in products:
            products[image.product] = Product(
                name=image.product,
                slug=slugify(image.product),
                price=Decimal("1.00"),
                category=categories[image.category],
            )
    Product.objects.bulk_create(products.values(), batch_size=500)
    pk_by_slug = dict(Product.objects.values_list("slug", "pk"))
    pks = {name: pk_by_slug[p.slug] for name, p in products.items()}
    backbone = settings.LOOKALIKE_BACKBONE
    ProductImage.objects.bulk_create(
        [
            ProductImage(
                product_id=pks[image.product],
                image=f"{prefix}/{image.filename}",
                position=position,
                embedding=vector_to_bytes(image.vector),
                embedding_model=backbone,
                sync_status=SyncStatus.SYNCED,
            )
            for position, image in enumerate(images)
        ],
        batch_size=500,
    )
    return pks


def identity_serve(*, exact_similar: bool = False) -> None:
    """The raw backbone version from the stored embeddings, as indexing writes it into an empty graph (the
    first version written is served), then every product's SIMILAR_TO: through the vector index as indexing
    does, or (`exact_similar`, a large catalog's set-up) exactly in NumPy as a projection fit does."""
    backbone = settings.LOOKALIKE_BACKBONE
    ids = list(ProductImage.objects.order_by("pk").values_list("pk", flat=True))
    with progress_factory(len(ids), f"Projecting into {backbone}", "img") as update:
        for start in range(0, len(ids), fitting.PROJECT_CHUNK):
            chunk = ids[start : start + fitting.PROJECT_CHUNK]
            images_project(
                list(ProductImage.objects.filter(pk__in=chunk).select_related("product__category")),
                version=backbone,
            )
            update(len(chunk))
    product_ids = sorted(Product.objects.values_list("pk", flat=True))
    with progress_factory(len(product_ids), "Similar items", "product") as update:
        if exact_similar:
            rows = list(ProductImage.objects.values_list("product_id", "embedding"))
            vectors = np.stack([vector_from_bytes(bytes(e)) for _, e in rows])
            similar_rebuild_exact(
                image_products=np.array([p for p, _ in rows]),
                vectors=vectors,
                model=backbone,
                progress=update,
            )
        else:
            similar_rebuild_all(product_ids=product_ids, model=backbone, progress=update)
    serving_forget()
    if graph_store().serving_model() != backbone:
        raise RuntimeError(f"{backbone} is not served after writing it into an empty graph")
