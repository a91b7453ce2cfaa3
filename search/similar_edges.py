"""Maintains (:Product)-[:SIMILAR_TO {score}]->(:Product) from the vector index: O(k) queries per product.

A product's neighbours are the products of its images' nearest images, scored by the best image pair
(cosine), kept when score >= LOOKALIKE_SIMILAR_MIN_SCORE, best LOOKALIKE_SIMILAR_K first. Never all pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from django.conf import settings

from catalog.models import ProductImage
from search.embeddings import vector_from_bytes
from search.graph import Neighbour, graph_store
from search.versions import vectors_project, version_backbone, version_similar_min_score

# Each image query fetches this many neighbours per wanted product: a product's own images and
# several images of one neighbour product can fill the top of the list.
OVERFETCH_PER_PRODUCT = 4


def product_vectors(product_id: int, model: str) -> list:
    """The product's vectors in version `model`'s space. The database caches the configured backbone's raw
    vectors, projected here; another backbone's (the one still served while `reembed` runs) are read from
    the graph."""
    backbone = version_backbone(model)
    if backbone != settings.LOOKALIKE_BACKBONE:
        return [np.asarray(v, dtype=np.float32) for v in graph_store().image_vectors(product_id, model=model)]
    rows = ProductImage.objects.filter(
        product_id=product_id, embedding_model=backbone, embedding__isnull=False
    ).values_list("embedding", flat=True)
    if not rows:
        return []
    return list(vectors_project(np.stack([vector_from_bytes(row) for row in rows]), version=model))


def product_neighbours_compute(*, product_id: int, model: str) -> list[Neighbour]:
    k = settings.LOOKALIKE_SIMILAR_K
    min_score = version_similar_min_score(model)
    vectors = product_vectors(product_id, model)
    if not vectors:
        return []
    best: dict[int, float] = {}
    per_vector = graph_store().nearest_images_many(
        vectors, k=k * OVERFETCH_PER_PRODUCT + len(vectors), model=model
    )
    for hits in per_vector:
        for hit in hits:
            if hit.product_id != product_id and hit.score >= min_score:
                best[hit.product_id] = max(best.get(hit.product_id, -1.0), hit.score)
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [Neighbour(product_id=p, score=round(s, 6)) for p, s in ranked]


def product_similar_refresh(*, product_id: int, model: str, offer_back: bool = True) -> list[Neighbour]:
    """Recompute one product's SIMILAR_TO list and offer it to its neighbours' lists."""
    neighbours = product_neighbours_compute(product_id=product_id, model=model)
    store = graph_store()
    store.similar_replace(product_id, neighbours, model=model)
    if offer_back:
        store.similar_offer(product_id, neighbours, model=model, keep=settings.LOOKALIKE_SIMILAR_K)
    return neighbours


def similar_rebuild_all(
    *, product_ids: Iterable[int], model: str, progress: Callable[[int], None] | None = None
) -> int:
    """Recompute every listed product's SIMILAR_TO from scratch; each product writes only its own list."""
    count = 0
    for product_id in product_ids:
        product_similar_refresh(product_id=product_id, model=model, offer_back=False)
        count += 1
        if progress:
            progress(1)
    return count
