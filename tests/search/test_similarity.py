"""Product-level ranking, filters and pagination against the in-memory store (unit level)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from search import similarity
from search.filter_share import catalog_shape_forget
from search.graph.base import ImageRecord, ProductFilter
from search.indexing import product_record
from search.similarity import (
    InvalidQuery,
    products_nearest,
    query_vector_compose,
    search_depth,
    search_overfetch,
)
from tests.factories import product_make

pytestmark = pytest.mark.django_db

MODEL = "efficientnet_lite0"


@pytest.fixture
def catalog(memory_graph):
    """40 products of 3 images each: 36 in 'Common', 4 in 'Rare' (10% of images); random unit vectors."""
    rng = np.random.default_rng(7)
    vectors = {}
    for n in range(40):
        product = product_make(f"Product {n}", category="Rare" if n % 13 == 0 else "Common", price=f"{n}.00")
        memory_graph.upsert_products([product_record(product)])
        for m in range(3):
            vector = rng.normal(size=16)
            vector /= np.linalg.norm(vector)
            image_id = product.pk * 10 + m
            vectors[image_id] = (product.pk, vector)
            memory_graph.upsert_images([ImageRecord(image_id, product.pk, "x.jpg", vector.tolist(), MODEL)])
    return vectors


def _exact(vectors, query, where=lambda pid: True):
    best = {}
    for product_id, vector in vectors.values():
        if where(product_id):
            best[product_id] = max(best.get(product_id, -2.0), float(vector @ query))
    return sorted(best, key=lambda pid: -best[pid])


def test_results_are_distinct_products_in_exact_order(catalog):
    query = next(iter(catalog.values()))[1]
    results = products_nearest(vector=query, k=10)
    assert [m.product.pk for m in results] == _exact(catalog, query)[:10]


def test_a_selective_filter_still_returns_k_matching_products(catalog):
    from catalog.models import Product

    rare = set(Product.objects.filter(category__slug="rare").values_list("pk", flat=True))
    query = next(v for pid, v in catalog.values() if pid not in rare)
    for k in (3, 4):  # 4 is every rare product: the index's first candidates hold fewer
        results = products_nearest(vector=query, k=k, where=ProductFilter(category_slug="rare"))
        assert [m.product.pk for m in results] == _exact(catalog, query, lambda pid: pid in rare)[:k]


def test_price_and_exclusion_filters(catalog):
    query = next(iter(catalog.values()))[1]
    results = products_nearest(
        vector=query, k=50, where=ProductFilter(min_price=10, max_price=19.5, exclude_ids=())
    )
    assert sorted(float(m.product.price) for m in results) == [float(n) for n in range(10, 20)]


def test_pages_join_up_and_min_score_cuts(catalog):
    query = next(iter(catalog.values()))[1]
    whole = [m.product.pk for m in products_nearest(vector=query, k=8)]
    pages = [m.product.pk for offset in (0, 4) for m in products_nearest(vector=query, k=4, offset=offset)]
    assert pages == whole
    above = products_nearest(vector=query, k=40, min_score=0.3)
    assert above and all(m.score >= 0.3 for m in above)
    assert len(above) < 40


def test_query_vectors_combine_liked_and_disliked():
    a, b = np.eye(3)[0], np.eye(3)[1]
    assert np.allclose(query_vector_compose(liked=[a, b]), (a + b) / np.sqrt(2))
    combined = query_vector_compose(liked=[a], disliked=[b])
    assert combined @ a > 0 and combined @ b < 0
    with pytest.raises(InvalidQuery):
        query_vector_compose(liked=[])
    with pytest.raises(InvalidQuery):
        query_vector_compose(liked=[a], disliked=[a / 0.5])


def test_a_filter_no_early_candidate_passes_falls_back_to_an_exact_scan(catalog):
    from catalog.models import Product

    only = Product.objects.get(name="Product 39")
    query = next(v for pid, v in catalog.values() if pid != only.pk)
    results = products_nearest(vector=query, k=3, where=ProductFilter(min_price=39))
    assert [m.product.pk for m in results] == [only.pk]


@pytest.mark.parametrize(
    ("share", "overfetch"),
    [(1.0, 64), (0.9, 58), (0.5, 32), (0.25, 16), (0.1, 8), (0.0, 8)],
)
def test_over_fetch_scales_with_the_filters_share_between_8_and_64(share, overfetch):
    assert search_overfetch(share) == overfetch


@pytest.fixture
def asked(catalog, memory_graph, monkeypatch):
    """(k, search_k) of each request to the index."""
    catalog_shape_forget()
    ks: list[tuple[int, int | None]] = []
    search = memory_graph.nearest_images_filtered

    def spy(vector, *, k, model, where, search_k=None):
        ks.append((k, search_k))
        return search(vector, k=k, model=model, where=where, search_k=search_k)

    monkeypatch.setattr(memory_graph, "nearest_images_filtered", spy)
    yield ks
    catalog_shape_forget()


@pytest.mark.parametrize(
    ("share", "passing_images", "depth"),
    [
        (1.0, math.inf, 640),  # no filter: k x 64
        (0.5, 50_000, 320),  # broad: k x the share's over-fetch
        (0.05, 5_000, 1250),  # narrow: a quarter of what passes
        (0.01, 1_000, 250),
        (0.01, 100, 80),  # never under k x 8
        (0.05, 1_000_000, 2560),  # nor over SEARCH_DEEP_MAX_K
    ],
)
def test_the_search_depth_follows_the_share_and_for_narrow_filters_the_images_passing(
    share, passing_images, depth
):
    assert search_depth(need=10, share=share, passing_images=passing_images) == depth


def test_the_index_searches_deeper_than_the_rows_it_returns(catalog, asked, monkeypatch):
    monkeypatch.setattr(similarity, "SEARCH_DEEP_PASSING_FRACTION", 1.0)
    query = next(iter(catalog.values()))[1]
    for where, search_k in (
        (ProductFilter(), search_overfetch(1.0)),
        (ProductFilter(category_slug="common"), search_overfetch(36 / 40)),
        (ProductFilter(category_slug="rare"), 12),  # 10% of the catalog: all its 12 images
    ):
        asked.clear()
        products_nearest(vector=query, k=1, where=where)
        # The best SEARCH_MIN_OVERFETCH per product wanted come back, whatever the depth of the search.
        assert asked[0] == (similarity.SEARCH_MIN_OVERFETCH, search_k), where
