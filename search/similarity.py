"""Read-side similarity: similar items from SIMILAR_TO, and search by photo through the vector index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from catalog.models import Product
from catalog.selectors import products_by_ids_in_order
from search.embeddings import InvalidImage, embedder_active, image_decode
from search.graph import graph_store

# The index is asked for k * this many images first, then more while products are still missing.
SEARCH_OVERFETCH = 4
SEARCH_MAX_FETCH = 4096


class UploadTooLarge(InvalidImage):
    pass


@dataclass(frozen=True)
class ProductMatch:
    product: Product
    score: float  # cosine similarity in [-1, 1]
    image_id: int | None = None


def product_similar_list(*, product_id: int, limit: int = 8) -> list[ProductMatch]:
    neighbours = graph_store().similar_list(product_id, limit=limit)
    scores = {n.product_id: n.score for n in neighbours}
    products = products_by_ids_in_order([n.product_id for n in neighbours])
    return [ProductMatch(product=p, score=scores[p.pk]) for p in products]


def products_nearest(*, vector: Sequence[float] | np.ndarray, k: int) -> list[ProductMatch]:
    """The k products whose best image is nearest to `vector`, best first (one entry per product)."""
    model = embedder_active().name
    fetch = k * SEARCH_OVERFETCH
    while True:
        hits = graph_store().nearest_images(vector, k=fetch, model=model)
        best: dict[int, tuple[float, int]] = {}
        for hit in hits:  # hits come best first, so the first per product is its best image
            best.setdefault(hit.product_id, (hit.score, hit.image_id))
        if len(best) >= k or len(hits) < fetch or fetch >= SEARCH_MAX_FETCH:
            break
        fetch = min(fetch * 4, SEARCH_MAX_FETCH)
    top = sorted(best.items(), key=lambda item: -item[1][0])[:k]
    products = products_by_ids_in_order([product_id for product_id, _ in top])
    return [ProductMatch(product=p, score=best[p.pk][0], image_id=best[p.pk][1]) for p in products]


def upload_check(upload: UploadedFile) -> None:
    limit = settings.LOOKALIKE_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size == 0:
        raise InvalidImage("The file is empty.")
    if upload.size > limit:
        raise UploadTooLarge(f"The file is {upload.size:,} bytes; the limit is {limit:,} bytes.")


def search_by_image(*, upload: UploadedFile, k: int) -> list[ProductMatch]:
    upload_check(upload)
    image = image_decode(upload, max_pixels=settings.LOOKALIKE_MAX_IMAGE_PIXELS)
    return products_nearest(vector=embedder_active().embed_one(image), k=k)
