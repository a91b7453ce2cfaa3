from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from catalog.models import Product
from insights.middleware import AnonymousSession
from search.similarity import MatchList, ProductMatch
from tests.factories import product_make


@pytest.fixture(autouse=True)
def _cache_clear():
    # Click rate limits and boost counts live in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def products(memory_graph, db) -> list[Product]:
    return [product_make(f"Product {i}", category="Fruit") for i in range(6)]


def shopper_request(session_id: str = "", path: str = "/search/"):
    request = RequestFactory().get(path)
    request.insights_session = AnonymousSession(session_id)
    return request


def matches_of(products, scores, *, model="efficientnet_lite0", vector=None) -> MatchList:
    return MatchList(
        [ProductMatch(product=p, score=s) for p, s in zip(products, scores, strict=True)],
        model=model,
        query_vector=vector,
    )
