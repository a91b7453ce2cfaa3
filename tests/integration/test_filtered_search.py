"""Filters inside the vector index, on the real Neo4j with real EfficientNet-Lite0 embeddings of the demo photos.

The demo catalog's stored embeddings are loaded under a separate model key, with products given categories,
prices and stock chosen here, so each filter's exact answer is known (NumPy over the same vectors), and the
demo graph itself is never changed.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings
from django.test import override_settings

from catalog.models import ProductImage
from search import similarity
from search.filter_share import catalog_shape_forget
from search.graph.base import ImageRecord, ProductFilter, ProductRecord
from search.graph.neo4j_store import Neo4jGraphStore
from search.similarity import SEARCH_DEEP_PASSING_FRACTION, _nearest_product_hits
from search.stored_vectors import vector_from_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

MODEL = "filter_test"
FIRST_ID = 9_000_000  # far from the demo catalog's ids
K = 10
CATEGORIES = 5


@pytest.fixture(scope="module")
def filtered_graph(neo4j_graph, demo_catalog, django_db_blocker):
    with django_db_blocker.unblock():
        rows = list(
            ProductImage.objects.filter(embedding__isnull=False, embedding_model="efficientnet_lite0")
            .order_by("pk")
            .values_list("pk", "product_id", "embedding")
        )
    vectors = np.stack([vector_from_bytes(bytes(e)) for _, _, e in rows]).astype(np.float32)
    demo_products = sorted({p for _, p, _ in rows})
    product_of_image = np.array([FIRST_ID + demo_products.index(p) for _, p, _ in rows])
    products = {
        FIRST_ID + n: ProductRecord(
            product_id=FIRST_ID + n,
            name=f"p{n}",
            slug=f"p{n}",
            category=f"C{n % CATEGORIES}",
            category_slug=f"c{n % CATEGORIES}",
            price=float(1 + (n * 7) % 50),  # 1..50
            in_stock=n % 3 != 0,
        )
        for n in range(len(demo_products))
    }
    neo4j_graph.ensure_schema(model=MODEL, dimensions=vectors.shape[1])
    neo4j_graph.upsert_products(list(products.values()))
    neo4j_graph.upsert_images(
        [
            ImageRecord(
                image_id=FIRST_ID + i,
                product_id=int(product_of_image[i]),
                path=f"filter-test/{i}",
                embedding=vectors[i].tolist(),
                model=MODEL,
            )
            for i in range(len(rows))
        ]
    )
    catalog_shape_forget()  # searches size their over-fetch by the filter's share of these products too
    yield {"vectors": vectors, "product_of_image": product_of_image, "products": products}
    neo4j_graph.delete_products(list(products))
    neo4j_graph.model_drop(MODEL)


def _exact(graph, query: np.ndarray, where: ProductFilter) -> list[int]:
    scores = graph["vectors"] @ query
    ranked: list[int] = []
    for i in np.argsort(-scores):
        product_id = int(graph["product_of_image"][i])
        if where.matches(graph["products"][product_id]) and product_id not in ranked:
            ranked.append(product_id)
    return ranked[:K]


FILTERS = {
    "none": ProductFilter(),
    "category": ProductFilter(category_slug="c2"),
    "price range": ProductFilter(min_price=10.0, max_price=20.0),
    "broad price range": ProductFilter(max_price=45.0),  # ~90%: an over-fetch near the unfiltered one
    "in stock": ProductFilter(in_stock=True),
    "out of stock": ProductFilter(in_stock=False),
    "category and price": ProductFilter(category_slug="c1", max_price=30.0),
    "category, price and stock": ProductFilter(category_slug="c3", min_price=5.0, in_stock=True),
}


# Narrow filters are searched deeper than k x 8 only past a few hundred images: a fraction of 1 makes the
# demo's narrow filters search for every image they pass.
@pytest.mark.parametrize("deep_fraction", [SEARCH_DEEP_PASSING_FRACTION, 1.0], ids=["walked", "deep"])
@pytest.mark.parametrize("name", FILTERS)
def test_filtered_search_matches_exact_numpy(filtered_graph, name, deep_fraction, monkeypatch):
    monkeypatch.setattr(similarity, "SEARCH_DEEP_PASSING_FRACTION", deep_fraction)
    where = FILTERS[name]
    queries = filtered_graph["vectors"][::17]
    recalls = []
    for query in queries:
        expected = _exact(filtered_graph, query, where)
        hits = _nearest_product_hits(query, need=K, model=MODEL, where=where, min_score=None)
        found = [h.product_id for h in hits]
        assert all(where.matches(filtered_graph["products"][p]) for p in found), name
        assert len(found) == len(expected)  # the filter never leaves the top k short
        recalls.append(len(set(found) & set(expected)) / len(expected))
    assert np.mean(recalls) >= 0.95, (name, np.mean(recalls))


def test_the_index_filters_during_the_search_not_after(filtered_graph, neo4j_graph):
    # A category holding 1/5 of the products: asking the index for K images with the filter must give K
    # images of that category (a post-filter over K unfiltered candidates would give about K/5).
    where = ProductFilter(category_slug="c4")
    result = neo4j_graph.nearest_images_filtered(filtered_graph["vectors"][0], k=K, model=MODEL, where=where)
    assert result.candidates == K and len(result.hits) == K
    assert {filtered_graph["products"][h.product_id].category_slug for h in result.hits} == {"c4"}


def test_searching_for_every_image_a_filter_passes_is_an_exact_scan(filtered_graph, neo4j_graph):
    # Lucene scans a segment exactly when no more of its images pass the filter than it is asked for; only
    # the best k of the search come back.
    where = ProductFilter(category_slug="c2", in_stock=True)
    passing = [
        i
        for i, product_id in enumerate(filtered_graph["product_of_image"])
        if where.matches(filtered_graph["products"][int(product_id)])
    ]
    for query in filtered_graph["vectors"][::41]:
        result = neo4j_graph.nearest_images_filtered(
            query, k=K, search_k=len(passing), model=MODEL, where=where
        )
        expected = sorted(passing, key=lambda i: -float(filtered_graph["vectors"][i] @ query))[:K]
        assert [h.image_id - FIRST_ID for h in result.hits] == expected
        assert result.candidates == K


def test_product_changes_reach_the_index_filters(filtered_graph, neo4j_graph):
    query = filtered_graph["vectors"][0]
    product_id = int(filtered_graph["product_of_image"][0])
    before = filtered_graph["products"][product_id]
    moved = ProductRecord(**{**vars(before), "category": "Moved", "category_slug": "moved", "price": 999.0})
    try:
        assert neo4j_graph.products_with_stale_filters([moved]) == {product_id}
        neo4j_graph.upsert_products([moved])
        assert neo4j_graph.products_with_stale_filters([moved]) == set()
        in_new = neo4j_graph.nearest_images_filtered(
            query, k=K, model=MODEL, where=ProductFilter(category_slug="moved", min_price=500.0)
        )
        assert {h.product_id for h in in_new.hits} == {product_id}
        in_old = neo4j_graph.nearest_images_filtered(
            query, k=K, model=MODEL, where=ProductFilter(category_slug=before.category_slug)
        )
        assert product_id not in {h.product_id for h in in_old.hits}
    finally:
        neo4j_graph.upsert_products([before])
    assert neo4j_graph.products_with_stale_filters([before]) == set()


@pytest.mark.parametrize("quantization", ["scalar", "none"])
def test_scores_are_exact_cosines_whatever_the_index_quantization(filtered_graph, neo4j_graph, quantization):
    # An unquantised index's own score is the cosine, so no rescoring is needed; a quantised index's candidates
    # are rescored from the stored vectors. Either way the scores shown are the exact cosines.
    with override_settings(NEO4J_VECTOR_QUANTIZATION=quantization):
        store = Neo4jGraphStore.from_settings(settings)
    dimensions = filtered_graph["vectors"].shape[1]
    try:
        store.vector_index_rebuild(model=MODEL, dimensions=dimensions, even_if_served=True)
        assert store.vector_index_exact(MODEL) is (quantization == "none")
        query = filtered_graph["vectors"][5]
        result = store.nearest_images_filtered(query, k=K, model=MODEL, where=ProductFilter(in_stock=True))
        assert len(result.hits) == K
        for hit in result.hits:
            vector = filtered_graph["vectors"][hit.image_id - FIRST_ID]
            cosine = vector @ query / (np.linalg.norm(vector) * np.linalg.norm(query))
            assert hit.score == pytest.approx(float(cosine), abs=1e-5)
    finally:
        neo4j_graph.vector_index_rebuild(model=MODEL, dimensions=dimensions, even_if_served=True)
