"""Read-side similarity: similar items from SIMILAR_TO, and search by photo through the vector index."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from django.core.files.uploadedfile import UploadedFile

from catalog.models import Product
from catalog.selectors import products_by_ids_in_order
from core.errors import ServiceError
from core.images import upload_decode
from insights.boost import click_boost_active, similar_rerank
from search.filter_share import filter_images, filter_share
from search.graph import graph_store
from search.graph.base import ImageHit, ProductFilter
from search.serving import embedder_for, serving_model
from search.similar_edges import product_vectors
from search.versions import vectors_project

# The index searches for k * over-fetch images (a product has several images, and a deeper HNSW search finds
# more of the true neighbours); only the best k * SEARCH_MIN_OVERFETCH come back. Unfiltered: 64. Recall at a
# given depth falls as the catalog grows (seed-99 tuning queries, unquantised index, docs/benchmarks.md):
# 32 gave 0.966 at 30k, 0.972 at 100k, 0.934 at 250k; 250k needed 56 for 0.952 and 64 for 0.957. Since only
# the best rows come back, 64 took less time at 100k than 32 did with every row back (7.8 vs 9.0 ms, run 5).
SEARCH_OVERFETCH = 64
# A filter keeping a share s of the catalog gets over-fetch SEARCH_OVERFETCH * s, never under 8. The index walks its graph
# until k images pass, scoring about k / s of them, so scaling k by s keeps a filtered search's walk (and time)
# near the unfiltered one's; a narrower filter also leaves fewer images to rank, so its recall holds with less
# (seed-99 tuning at 100k, 250k: price ~10% 0.986 and categories 1.000 at 8; at 100k in stock 0.980 at 16, and
# price <= 90 0.969 at 16 as unfiltered 0.967). 8: three images per product, and a margin for the index's misses.
SEARCH_MIN_OVERFETCH = 8
# A narrow filter is searched deeper: for a filter keeping at most SEARCH_DEEP_MAX_SHARE of the catalog, the
# index searches for a quarter of the images it passes (estimated), between the over-fetch's k and
# SEARCH_DEEP_MAX_K. Lucene's filtered walk (ACORN) explores two hops per step for such filters and was 1.2-3x
# slower at k = 80 than at a quarter or half of what passes, which also finds every true neighbour: 100k
# images, seed-99 queries, issue 11 run 5 in docs/benchmarks.md. Searching for all that pass (Lucene then
# scans them exactly) was slower again: every one of those images comes back as a row.
SEARCH_DEEP_MAX_SHARE = 0.1
SEARCH_DEEP_PASSING_FRACTION = 0.25
SEARCH_DEEP_MAX_K = 2560
# Past this many candidates an exact scan of the filtered products is cheaper and never starves.
SEARCH_MAX_FETCH = 4096
# Category, price and stock are filtered inside the vector index (Neo4j 2026 SEARCH … WHERE), so nearly all
# candidates pass; only excluded products ("more like these": the liked ones) are dropped afterwards. When
# fewer than this share of the candidates survive that, the exact scan answers at once.
SELECTIVE_FILTER_SHARE = 0.25
DISLIKE_WEIGHT = 0.5


class InvalidQuery(ServiceError, ValueError):
    """A search that cannot be run as asked (unknown liked products, nothing to search by)."""

    code = "invalid_query"


@dataclass(frozen=True)
class ProductMatch:
    product: Product
    score: float  # cosine similarity in [-1, 1]
    image_id: int | None = None


class MatchList(list):
    """Matches, best first, and how they were found: insights records the model and the query vector."""

    def __init__(
        self, matches: Sequence[ProductMatch], *, model: str, query_vector: np.ndarray | None = None
    ):
        super().__init__(matches)
        self.model = model
        self.query_vector = query_vector


def product_similar_list(
    *,
    product_id: int,
    limit: int = 8,
    offset: int = 0,
    where: ProductFilter = ProductFilter(),
    min_score: float | None = None,
) -> list[ProductMatch]:
    model = serving_model()
    # With enough clicks, the strip is re-ranked by them (insights/boost.py): fetch from the top to re-rank.
    boosted = click_boost_active()
    neighbours = graph_store().similar_list(
        product_id,
        limit=offset + limit if boosted else limit,
        offset=0 if boosted else offset,
        where=where,
        min_score=min_score,
        model=model,
    )
    if boosted:
        neighbours = similar_rerank(source_product_id=product_id, neighbours=neighbours)[offset:]
    scores = {n.product_id: n.score for n in neighbours}
    products = products_by_ids_in_order([n.product_id for n in neighbours])
    return MatchList([ProductMatch(product=p, score=scores[p.pk]) for p in products], model=model)


def _best_per_product(hits: Sequence[ImageHit], min_score: float | None) -> dict[int, ImageHit]:
    best: dict[int, ImageHit] = {}
    for hit in hits:  # best first, so the first hit of a product is its best image
        if min_score is None or hit.score >= min_score:
            best.setdefault(hit.product_id, hit)
    return best


def search_overfetch(share: float) -> int:
    """Images searched for in the vector index per product wanted, for a filter keeping `share` of the catalog."""
    return min(SEARCH_OVERFETCH, max(SEARCH_MIN_OVERFETCH, math.ceil(SEARCH_OVERFETCH * share)))


def search_depth(*, need: int, share: float, passing_images: float) -> int:
    """How many images the index searches for: `need` times the share's over-fetch, deeper for a narrow filter."""
    depth = need * search_overfetch(share)
    if share <= SEARCH_DEEP_MAX_SHARE:
        deep = min(SEARCH_DEEP_MAX_K, math.ceil(passing_images * SEARCH_DEEP_PASSING_FRACTION))
        depth = max(depth, deep)
    return depth


def _nearest_product_hits(
    vector: Sequence[float], *, need: int, model: str, where: ProductFilter, min_score: float | None
) -> list[ImageHit]:
    """`need` products, best image each. From the vector index, filtered during the search, asking for more
    candidates while too few distinct products come back (sized by the share that passed so far); by an
    exact scan of the filtered products when exclusions drop most candidates or the index would have to
    return too many."""
    store = graph_store()
    share = filter_share(store, where)
    passing_images = filter_images(store, where, model=model) if share <= SEARCH_DEEP_MAX_SHARE else math.inf
    depth = search_depth(need=need, share=share, passing_images=passing_images)
    # Of what the index found, the best `fetch` images go on to their products and back: SEARCH_MIN_OVERFETCH
    # per product wanted (three images each, and a margin), more only while too few products come back.
    fetch = need * SEARCH_MIN_OVERFETCH
    while True:
        result = store.nearest_images_filtered(
            vector, k=fetch, search_k=max(depth, fetch), model=model, where=where
        )
        best = _best_per_product(result.hits, min_score)
        index_exhausted = result.candidates < fetch
        below_min_score = min_score is not None and bool(result.hits) and result.hits[-1].score < min_score
        if len(best) >= need or below_min_score or (index_exhausted and not where.has_product_properties):
            return sorted(best.values(), key=lambda h: (-h.score, h.product_id))[:need]
        if index_exhausted:
            # A filtered HNSW search may stop short of k although more images pass (it gives up exploring
            # once the filter has rejected enough); fewer than asked then means "few pass", so the exact
            # scan is both cheap and complete.
            return store.nearest_products_exact(vector, k=need, model=model, where=where, min_score=min_score)
        passing = len(result.hits) / result.candidates
        selective = passing < SELECTIVE_FILTER_SHARE
        if not selective:
            fetch = max(fetch * 2, math.ceil(need * SEARCH_MIN_OVERFETCH / passing))
        if selective or fetch > SEARCH_MAX_FETCH:
            return store.nearest_products_exact(vector, k=need, model=model, where=where, min_score=min_score)


def products_nearest(
    *,
    vector: Sequence[float] | np.ndarray,
    k: int,
    offset: int = 0,
    where: ProductFilter = ProductFilter(),
    min_score: float | None = None,
    model: str | None = None,
) -> list[ProductMatch]:
    """Products ranked by their best image's cosine similarity to `vector`: one entry per product.
    `model` is the one that made `vector` (default: the served one)."""
    model = model or serving_model()
    query: Sequence[float] = vector.tolist() if isinstance(vector, np.ndarray) else vector
    hits = _nearest_product_hits(query, need=offset + k, model=model, where=where, min_score=min_score)[
        offset:
    ]
    by_product = {hit.product_id: hit for hit in hits}
    products = products_by_ids_in_order([hit.product_id for hit in hits])
    matches = [
        ProductMatch(product=p, score=by_product[p.pk].score, image_id=by_product[p.pk].image_id)
        for p in products
    ]
    return MatchList(matches, model=model, query_vector=np.asarray(vector))


def query_vector_compose(*, liked: Sequence[np.ndarray], disliked: Sequence[np.ndarray] = ()) -> np.ndarray:
    """More like these, less like those: the mean of liked vectors minus a share of the disliked mean."""
    if not liked:
        raise InvalidQuery("Give a photo or at least one liked product.")
    vector = np.mean(liked, axis=0)
    if disliked:
        vector = vector - DISLIKE_WEIGHT * np.mean(disliked, axis=0)
    norm = float(np.linalg.norm(vector))
    if norm < 1e-6:
        raise InvalidQuery("The liked and disliked products cancel each other out.")
    return vector / norm


def product_vector(*, product_id: int, model: str) -> np.ndarray:
    vectors = product_vectors(product_id, model)
    if not vectors:
        raise InvalidQuery(f"Product {product_id} does not exist or has no embedded images.")
    mean = np.mean(vectors, axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def search_by_image(
    *,
    upload: UploadedFile | None,
    k: int,
    offset: int = 0,
    where: ProductFilter = ProductFilter(),
    min_score: float | None = None,
    crop: tuple[int, int, int, int] | None = None,
    liked_ids: Sequence[int] = (),
    disliked_ids: Sequence[int] = (),
) -> list[ProductMatch]:
    """Search by a photo (optionally a region of it) and/or liked products, minus disliked ones."""
    # One version for the whole search, even if the served one switches meanwhile: its backbone embeds the
    # photo, its projection maps the photo and the liked products, its index answers.
    version = serving_model()
    liked = [product_vector(product_id=pid, model=version) for pid in liked_ids]
    disliked = [product_vector(product_id=pid, model=version) for pid in disliked_ids]
    if upload is not None:
        image = upload_decode(upload, crop=crop)
        liked.insert(0, vectors_project(embedder_for(version).embed_one(image), version=version))
    where = replace(where, exclude_ids=(*where.exclude_ids, *liked_ids, *disliked_ids))
    vector = query_vector_compose(liked=liked, disliked=disliked)
    return products_nearest(
        vector=vector, k=k, offset=offset, where=where, min_score=min_score, model=version
    )
