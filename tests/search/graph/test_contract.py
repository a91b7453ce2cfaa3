"""The graph store contract: one set of tests, run against the real Neo4j store (integration) and the
in-memory double, so the double can stand in for Neo4j in unit tests. Expected values are worked out by
hand from tiny 4-d vectors, never read from one store to check the other.

On the shared Neo4j test server the tests touch only their own product/image ids and their own models
(labels and vector indexes), and remove them afterwards; they never switch the served model.
"""

from __future__ import annotations

import math

import pytest

from search.graph import graph_store
from search.graph.base import GraphStore, ImageRecord, Neighbour, ProductFilter, ProductRecord
from search.graph.catalog_shape import price_bucket
from search.graph.memory import InMemoryGraphStore

MODEL, OTHER_MODEL, RESIZED_MODEL = "contract_a", "contract_b", "contract_resized"
BASE = 930_000_000  # ids far above any catalog row
A, B, C, D = BASE + 1, BASE + 2, BASE + 3, BASE + 4


def _unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def _product(
    pid: int, *, category: str = "fruit", price: float = 1.0, in_stock: bool = True
) -> ProductRecord:
    return ProductRecord(
        product_id=pid,
        name=f"Product {pid}",
        slug=f"product-{pid}",
        category=category.title(),
        category_slug=category,
        price=price,
        in_stock=in_stock,
    )


def _image(image_id: int, product_id: int, vector: list[float], model: str = MODEL) -> ImageRecord:
    return ImageRecord(
        image_id=image_id,
        product_id=product_id,
        path=f"products/{image_id}.jpg",
        embedding=vector,
        model=model,
    )


def _neo4j_store() -> GraphStore:
    store = graph_store()
    from search.graph.neo4j_store import Neo4jGraphStore

    assert isinstance(store, Neo4jGraphStore), "the test settings use the Neo4j store"
    return store


def _own_nodes_delete(store: GraphStore) -> None:
    store.delete_images([s.image_id for s in store.image_shapes() if s.image_id >= BASE])
    store.delete_products([p.product_id for p in store.products() if p.product_id >= BASE])


@pytest.fixture(scope="module")
def neo4j_store() -> GraphStore:
    """Our models' indexes live for the module (creating one takes seconds); nodes go after each test."""
    store = _neo4j_store()
    served = store.serving_model()
    yield store
    for model in (MODEL, OTHER_MODEL, RESIZED_MODEL):
        store.model_drop(model)
    if served is None:  # our ensure_schema made the first serving state; leave the graph as found
        store.db.write("MATCH (s:IndexState {key: 'serving'}) DELETE s")  # type: ignore[attr-defined]
    else:
        assert store.serving_model() == served


@pytest.fixture(params=["memory", pytest.param("neo4j", marks=[pytest.mark.integration])])
def store(request) -> GraphStore:
    if request.param == "memory":
        yield InMemoryGraphStore()
        return
    store = request.getfixturevalue("neo4j_store")
    _own_nodes_delete(store)
    yield store
    _own_nodes_delete(store)


@pytest.fixture
def catalog(store: GraphStore) -> GraphStore:
    """Four products (A, B fruit; C veg, dear; D out of stock) with images along the first two axes."""
    store.ensure_schema(model=MODEL, dimensions=4)
    store.upsert_products(
        [
            _product(A),
            _product(B, price=2.0),
            _product(C, category="veg", price=9.0),
            _product(D, in_stock=False),
        ]
    )
    store.upsert_images(
        [
            _image(A + 10, A, _unit(1, 0, 0, 0)),
            _image(A + 20, A, _unit(1, 1, 0, 0)),
            _image(B + 10, B, _unit(1, 0.5, 0, 0)),
            _image(C + 10, C, _unit(0, 1, 0, 0)),
            _image(D + 10, D, _unit(1, 0.2, 0, 0)),
        ]
    )
    return store


def _ids(hits) -> list[int]:
    return [h.image_id for h in hits]


def test_nearest_images_are_exactly_scored_best_first(catalog):
    [hits] = catalog.nearest_images_many([_unit(1, 0, 0, 0)], k=3, model=MODEL)
    assert _ids(hits) == [A + 10, D + 10, B + 10]
    assert [h.product_id for h in hits] == [A, D, B]
    assert hits[1].score == pytest.approx(1 / math.sqrt(1.04), abs=1e-6)  # cosine, not Neo4j's (1+cos)/2


def test_nearest_products_keep_each_products_best_score_over_all_vectors(catalog):
    """A SIMILAR_TO refresh's candidates: the store's best-per-product equals the per-image hits, maximised."""
    vectors = [_unit(1, 0, 0, 0), _unit(0, 1, 0, 0)]
    best = catalog.nearest_products_many(vectors, k=4, model=MODEL, exclude_product_id=A)
    expected: dict[int, float] = {}
    for hits in catalog.nearest_images_many(vectors, k=4, model=MODEL):
        for hit in hits:
            if hit.product_id != A:
                expected[hit.product_id] = max(expected.get(hit.product_id, -1.0), hit.score)
    assert set(best) == set(expected) == {B, C, D}
    assert best == pytest.approx(expected, abs=1e-6)
    assert best[C] == pytest.approx(1.0, abs=1e-6)  # C's image is the second vector itself


def test_nearest_images_read_only_their_models_vectors(catalog):
    catalog.ensure_schema(model=OTHER_MODEL, dimensions=4)
    catalog.upsert_images([_image(C + 10, C, _unit(1, 0, 0, 0), model=OTHER_MODEL)])
    [mine] = catalog.nearest_images_many([_unit(0, 1, 0, 0)], k=1, model=MODEL)
    [other] = catalog.nearest_images_many([_unit(0, 1, 0, 0)], k=5, model=OTHER_MODEL)
    assert _ids(mine) == [C + 10] and mine[0].score == pytest.approx(1.0, abs=1e-6)
    assert _ids(other) == [C + 10] and other[0].score == pytest.approx(0.0, abs=1e-6)
    assert {MODEL, OTHER_MODEL} <= catalog.image_models()


@pytest.mark.parametrize(
    "where, expected, candidates",
    [
        (ProductFilter(), [A + 10, D + 10, B + 10, A + 20], 4),
        # Category, price and stock filter inside the index: the k nearest that pass (only 3 do).
        (ProductFilter(category_slug="fruit", in_stock=True), [A + 10, B + 10, A + 20], 3),
        (ProductFilter(min_price=1.5, max_price=9.0), [B + 10, C + 10], 2),
        # Exclusions are dropped from the k nearest afterwards (the index has no NOT).
        (ProductFilter(exclude_ids=(A, D)), [B + 10], 4),
    ],
)
def test_filtered_nearest_images_are_the_k_nearest_passing_the_index_filters(
    catalog, where, expected, candidates
):
    result = catalog.nearest_images_filtered(_unit(1, 0, 0, 0), k=4, model=MODEL, where=where)
    assert _ids(result.hits) == expected and result.candidates == candidates


def test_catalog_shape_counts_products_by_category_stock_and_price_bucket(store):
    # Categories of this test's own: the Neo4j test server is shared.
    store.upsert_products(
        [
            _product(A, category="shape_a", price=3.0),
            _product(B, category="shape_a", price=3.1),  # the same bucket as 3.0
            _product(C, category="shape_a", price=40.0, in_stock=False),
            _product(D, category="shape_b", price=0.0),
        ]
    )
    cells = {
        (c.category_slug, c.in_stock, c.price_bucket): c.products
        for c in store.catalog_shape().cells
        if c.category_slug in ("shape_a", "shape_b")
    }
    assert cells == {
        ("shape_a", True, price_bucket(3.0)): 2,
        ("shape_a", False, price_bucket(40.0)): 1,
        ("shape_b", True, 0): 1,
    }


def test_exact_scan_gives_each_products_best_image_above_min_score(catalog):
    query = _unit(1, 1, 0, 0)
    every = catalog.nearest_products_exact(query, k=10, model=MODEL, where=ProductFilter(), min_score=None)
    assert [(h.product_id, h.image_id) for h in every] == [(A, A + 20), (B, B + 10), (D, D + 10), (C, C + 10)]
    strict = catalog.nearest_products_exact(query, k=10, model=MODEL, where=ProductFilter(), min_score=0.9)
    assert [h.product_id for h in strict] == [A, B] and all(h.score >= 0.9 for h in strict)
    veg = catalog.nearest_products_exact(
        query, k=10, model=MODEL, where=ProductFilter(category_slug="veg"), min_score=None
    )
    assert [h.product_id for h in veg] == [C] and veg[0].score == pytest.approx(1 / math.sqrt(2), abs=1e-6)
    assert (
        catalog.nearest_products_exact(query, k=1, model=MODEL, where=ProductFilter(), min_score=None)[
            0
        ].product_id
        == A
    )


def test_exact_scan_breaks_ties_by_product_id(store):
    store.ensure_schema(model=MODEL, dimensions=4)
    store.upsert_products([_product(B), _product(A)])
    # A's image has the larger id, so only a product-id tie-break puts A first.
    store.upsert_images([_image(B + 10, B, _unit(0, 0, 1, 0)), _image(A + 90, A, _unit(0, 0, 1, 0))])
    hits = store.nearest_products_exact(
        _unit(0, 0, 1, 0), k=2, model=MODEL, where=ProductFilter(), min_score=None
    )
    assert [h.product_id for h in hits] == [A, B]


def test_images_of_a_product_not_yet_upserted_hang_off_a_bare_product(store):
    store.ensure_schema(model=MODEL, dimensions=4)
    store.upsert_images([_image(A + 10, A, _unit(1, 0, 0, 0))])
    assert A in {p.product_id for p in store.products()}
    assert [(s.image_id, s.product_id) for s in store.image_shapes() if s.image_id == A + 10] == [(A + 10, A)]
    found = store.nearest_images_filtered(_unit(1, 0, 0, 0), k=1, model=MODEL, where=ProductFilter())
    assert _ids(found.hits) == [A + 10]


def test_an_image_upserted_under_another_product_moves(catalog):
    catalog.upsert_images([_image(A + 20, B, _unit(1, 1, 0, 0))])
    assert [s.product_id for s in catalog.image_shapes() if s.image_id == A + 20] == [B]
    assert catalog.image_vectors(A, model=MODEL) == [pytest.approx(_unit(1, 0, 0, 0), abs=1e-6)]


def test_similar_lists_never_link_missing_products(catalog):
    missing = BASE + 99
    catalog.similar_replace(A, [Neighbour(B, 0.9), Neighbour(missing, 0.8)], model=MODEL)
    catalog.similar_offer(A, [Neighbour(B, 0.9), Neighbour(missing, 0.8)], model=MODEL, keep=8)
    catalog.similar_offer(missing, [Neighbour(C, 0.7)], model=MODEL, keep=8)
    edges = {(e.source_id, e.target_id) for e in catalog.similar_edges() if e.source_id >= BASE}
    assert edges == {(A, B), (B, A)}
    assert catalog.similar_list(A, limit=10, model=MODEL) == [Neighbour(B, 0.9)]
    assert catalog.similar_sources(A) == [B]


def test_similar_lists_page_filter_and_trim(catalog):
    catalog.similar_replace(A, [Neighbour(B, 0.9), Neighbour(C, 0.8), Neighbour(D, 0.7)], model=MODEL)
    assert catalog.similar_list(A, limit=2, offset=1, model=MODEL) == [Neighbour(C, 0.8), Neighbour(D, 0.7)]
    assert catalog.similar_list(A, limit=5, min_score=0.75, model=MODEL) == [
        Neighbour(B, 0.9),
        Neighbour(C, 0.8),
    ]
    assert catalog.similar_list(A, limit=5, where=ProductFilter(in_stock=True), model=MODEL) == [
        Neighbour(B, 0.9),
        Neighbour(C, 0.8),
    ]
    assert catalog.similar_list(A, limit=5, model=OTHER_MODEL) == []
    # Offered to C's list, which keeps only its best one.
    catalog.similar_replace(C, [Neighbour(D, 0.5)], model=MODEL)
    catalog.similar_offer(A, [Neighbour(C, 0.6)], model=MODEL, keep=1)
    assert catalog.similar_list(C, limit=5, model=MODEL) == [Neighbour(A, 0.6)]


def test_deletes_take_images_and_every_edge_touching_them(catalog):
    catalog.similar_replace(A, [Neighbour(B, 0.9)], model=MODEL)
    catalog.similar_replace(B, [Neighbour(A, 0.9)], model=MODEL)
    catalog.delete_products([B])
    catalog.delete_images([A + 20])
    own = {p.product_id for p in catalog.products() if p.product_id >= BASE}
    assert own == {A, C, D}
    assert {s.image_id for s in catalog.image_shapes() if s.image_id >= BASE} == {A + 10, C + 10, D + 10}
    assert [e for e in catalog.similar_edges() if e.source_id >= BASE] == []


def test_product_properties_read_back_as_written(catalog):
    dear = _product(C, category="veg", price=9.5, in_stock=False)
    catalog.upsert_products([dear])
    assert [p for p in catalog.products() if p.product_id == C] == [dear]


def test_a_dimension_change_hides_old_vectors_from_search_but_not_from_the_check(store):
    store.ensure_schema(model=RESIZED_MODEL, dimensions=4)
    store.upsert_products([_product(A)])
    store.upsert_images([_image(A + 10, A, _unit(1, 0, 0, 0), model=RESIZED_MODEL)])
    store.ensure_schema(model=RESIZED_MODEL, dimensions=3)
    query = _unit(1, 0, 0)
    assert store.nearest_images_many([query], k=5, model=RESIZED_MODEL) == [[]]
    assert (
        store.nearest_products_exact(query, k=5, model=RESIZED_MODEL, where=ProductFilter(), min_score=None)
        == []
    )
    # check_graph finds the node as wrong-dimension, and re-syncing replaces it.
    [shape] = [s for s in store.image_shapes() if s.image_id == A + 10]
    assert (shape.model, shape.dimensions) == (RESIZED_MODEL, 4)
    store.upsert_images([_image(A + 10, A, query, model=RESIZED_MODEL)])
    [[hit]] = store.nearest_images_many([query], k=5, model=RESIZED_MODEL)
    assert hit.image_id == A + 10 and hit.score == pytest.approx(1.0, abs=1e-6)


def test_model_drop_takes_the_models_images_and_edges_only(catalog):
    catalog.ensure_schema(model=OTHER_MODEL, dimensions=4)
    catalog.upsert_images([_image(A + 10, A, _unit(1, 0, 0, 0), model=OTHER_MODEL)])
    catalog.similar_replace(A, [Neighbour(B, 0.9)], model=OTHER_MODEL)
    catalog.similar_replace(A, [Neighbour(C, 0.8)], model=MODEL)
    catalog.model_drop(OTHER_MODEL)
    assert OTHER_MODEL not in catalog.image_models()
    assert catalog.similar_list(A, limit=5) == [Neighbour(C, 0.8)]
    assert _ids(catalog.nearest_images(_unit(1, 0, 0, 0), k=1, model=MODEL)) == [A + 10]
