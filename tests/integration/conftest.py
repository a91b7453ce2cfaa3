"""Integration fixtures: the real Neo4j test server (scripts/neo4j start test), real weights, real photos."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from django.core.management import call_command

from catalog.models import Product
from search import indexing
from search.graph import GraphUnavailable, graph_store

SHOP_PHOTOS_PER_PRODUCT = 3


@pytest.fixture(scope="session")
def neo4j_graph(django_db_setup, django_db_blocker):
    if os.environ.get("NEO4J_BOLT_URL") and os.environ.get("LOOKALIKE_TESTS_MAY_CLEAR_GRAPH") != "1":
        pytest.fail(
            "Integration tests delete every :Product and :Image node of the server at NEO4J_BOLT_URL; "
            "set LOOKALIKE_TESTS_MAY_CLEAR_GRAPH=1 if that server is disposable."
        )
    graph_store.cache_clear()
    store = graph_store()
    try:
        store.clear()
    except GraphUnavailable as exc:
        pytest.fail(f"The Neo4j test server must run for integration tests (make neo4j-test-start): {exc}")
    return store


@pytest.fixture(scope="session")
def demo_catalog(neo4j_graph, django_db_blocker, grocery_dir) -> dict[str, int]:
    """The Grocery Store demo catalog imported once, through the real command: name -> product id."""
    with django_db_blocker.unblock():
        call_command("import_catalog", str(grocery_dir), "--shop-photos", str(SHOP_PHOTOS_PER_PRODUCT))
        return dict(Product.objects.values_list("name", "pk"))


@pytest.fixture(autouse=True)
def _throttle_reset():
    # Anonymous search is throttled through the cache; each test starts with a fresh allowance.
    cache.clear()


@pytest.fixture
def graph_cleanup(neo4j_graph):
    """Products a test adds exist only in its rolled-back transaction: take them out of the graph afterwards."""
    product_ids: list[int] = []
    yield product_ids
    for product_id in product_ids:
        indexing.product_unindex(product_id=product_id)
