"""Maintains (:Product)-[:SIMILAR_TO {score}]->(:Product) from the vector index: O(k) queries per product.

A product's neighbours are the products of its images' nearest images, scored by the best image pair
(cosine), kept when score >= LOOKALIKE_SIMILAR_MIN_SCORE, best LOOKALIKE_SIMILAR_K first. Never all pairs,
except when every list of a version is rebuilt (a projection fit, `rebuild_similarity`, `reembed`) for a
catalog of up to EXACT_REBUILD_MAX_IMAGES images (`similar_rebuild_stored`): there blocks of NumPy products
over the stored raw vectors replace an index query per image.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
from django.conf import settings

from catalog.models import ProductImage
from search.graph import Neighbour, graph_store
from search.stored_vectors import vector_from_bytes
from search.versions import vectors_project, version_backbone, version_similar_min_score

# Each image query fetches this many neighbours per wanted product: a product's own images and
# several images of one neighbour product can fill the top of the list.
OVERFETCH_PER_PRODUCT = 4
# A full rebuild scores every image pair in NumPy up to this many images: 10k images are ~1.3e11
# multiply-adds (seconds here) where one index query per image took ~15 min on the loaded 2-core machine
# (benchmarks/projection_fit_time.py). Above it, the cost grows with the square: per-product index queries.
EXACT_REBUILD_MAX_IMAGES = 20_000
EXACT_BLOCK_ROWS = 1024
# Products' lists per write in a full rebuild: one write per product cost ~14 ms each at 10k images (a round
# trip and a commit), 4 s of a 45 s fit and switch (docs/benchmarks.md).
REPLACE_CHUNK = 500


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
    best = graph_store().nearest_products_many(
        vectors, k=k * OVERFETCH_PER_PRODUCT + len(vectors), model=model, exclude_product_id=product_id
    )
    best = {p: score for p, score in best.items() if score >= min_score}
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


def similar_lists_exact(
    image_products: np.ndarray, vectors: np.ndarray, *, k: int, min_score: float
) -> dict[int, list[Neighbour]]:
    """Every product's neighbours by best image pair over all pairs of unit `vectors` (one row per image):
    what `product_neighbours_compute` finds through the index, exactly, for all products at once."""
    order = np.argsort(image_products, kind="stable")
    products = np.asarray(image_products)[order]
    vectors = np.asarray(vectors, dtype=np.float32)[order]
    keys, starts = np.unique(products, return_index=True)
    ends = np.append(starts[1:], len(products))
    best = np.empty((len(keys), len(keys)), dtype=np.float32)  # product × product: best image pair
    first = 0
    while first < len(keys):
        last = first + 1  # whole products per block, at least one
        while last < len(keys) and ends[last] - starts[first] <= EXACT_BLOCK_ROWS:
            last += 1
        rows = slice(starts[first], ends[last - 1])
        per_product = np.maximum.reduceat(vectors[rows] @ vectors.T, starts, axis=1)
        best[first:last] = np.maximum.reduceat(per_product, starts[first:last] - starts[first], axis=0)
        first = last
    np.fill_diagonal(best, -np.inf)
    lists: dict[int, list[Neighbour]] = {}
    for row, product_id in enumerate(keys.tolist()):
        scores = best[row]
        # Stable on the negated score: ties keep the ascending product order, as the index path sorts them.
        ranked = [i for i in np.argsort(-scores, kind="stable")[:k] if scores[i] >= min_score]
        lists[product_id] = [
            Neighbour(product_id=int(keys[i]), score=round(float(scores[i]), 6)) for i in ranked
        ]
    return lists


def similar_rebuild_exact(
    *,
    image_products: np.ndarray,
    vectors: np.ndarray,
    model: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Replace every listed product's SIMILAR_TO list in `model` by the exact lists over these vectors (the
    version's every image, in its space)."""
    lists = similar_lists_exact(
        image_products, vectors, k=settings.LOOKALIKE_SIMILAR_K, min_score=version_similar_min_score(model)
    )
    store = graph_store()
    product_ids = list(lists)
    for start in range(0, len(product_ids), REPLACE_CHUNK):
        chunk = product_ids[start : start + REPLACE_CHUNK]
        store.similar_replace_many({product_id: lists[product_id] for product_id in chunk}, model=model)
        if progress:
            progress(len(chunk))
    return len(lists)


def similar_rebuild_stored(
    *,
    rows: Sequence[tuple[int, bytes | memoryview | None]],
    model: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Every product's SIMILAR_TO list in version `model`, from the stored raw vectors of all its images
    (`rows`: product id, embedding): exactly in NumPy up to EXACT_REBUILD_MAX_IMAGES images of the
    configured backbone, else through the vector index (another backbone's vectors are read from the graph)."""
    products = np.array([product for product, _ in rows], dtype=np.int64)
    if version_backbone(model) != settings.LOOKALIKE_BACKBONE or len(rows) > EXACT_REBUILD_MAX_IMAGES:
        return similar_rebuild_all(product_ids=sorted(set(products.tolist())), model=model, progress=progress)
    if not rows:
        return 0
    raw = np.stack([vector_from_bytes(embedding) for _, embedding in rows])
    return similar_rebuild_exact(
        image_products=products, vectors=vectors_project(raw, version=model), model=model, progress=progress
    )
