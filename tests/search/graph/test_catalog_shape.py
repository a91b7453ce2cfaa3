"""A filter's share of the catalog, estimated from products counted by category, stock and price bucket."""

from __future__ import annotations

import pytest

from core.filters import ProductFilter
from search.graph.catalog_shape import (
    CatalogShape,
    FilterCell,
    price_bucket,
    price_bucket_bounds,
)


def _shape(products: list[tuple[str, bool, float]]) -> CatalogShape:
    counts: dict[tuple[str, bool, int], int] = {}
    for category, in_stock, price in products:
        key = (category, in_stock, price_bucket(price))
        counts[key] = counts.get(key, 0) + 1
    return CatalogShape.of(FilterCell(c, s, b, n) for (c, s, b), n in counts.items())


@pytest.mark.parametrize("price", [0.0, 0.5, 1.0, 9.99, 40.0, 43.6, 99.99, 12_345.0])
def test_a_price_lies_inside_its_buckets_bounds(price):
    low, high = price_bucket_bounds(price_bucket(price))
    assert low <= price < high


def test_buckets_are_an_eighth_of_an_octave():
    low, high = price_bucket_bounds(price_bucket(40.0))
    assert (1 + high) / (1 + low) == pytest.approx(2 ** (1 / 8))
    assert price_bucket(-5.0) == price_bucket(0.0)  # no negative buckets


def test_category_and_stock_shares_are_exact():
    shape = _shape([("fruit", True, 1.0)] * 3 + [("fruit", False, 1.0)] + [("veg", True, 2.0)] * 6)
    assert shape.products == 10
    assert shape.share(ProductFilter()) == 1.0
    assert shape.share(ProductFilter(category_slug="fruit")) == pytest.approx(0.4)
    assert shape.share(ProductFilter(in_stock=False)) == pytest.approx(0.1)
    assert shape.share(ProductFilter(category_slug="fruit", in_stock=True)) == pytest.approx(0.3)
    assert shape.share(ProductFilter(category_slug="meat")) == 0.0


def test_a_price_range_over_evenly_spread_prices_keeps_about_its_width():
    prices = [n / 10 for n in range(1000)]  # 0.0 .. 99.9, even
    shape = _shape([("c", True, p) for p in prices])
    for low, high, expected in ((40, 50, 0.10), (None, 90, 0.90), (0, 5, 0.05), (150, None, 0.0)):
        share = shape.share(ProductFilter(min_price=low, max_price=high))
        assert share == pytest.approx(expected, abs=0.01), (low, high)


def test_an_empty_range_keeps_nothing_and_an_empty_catalog_assumes_everything():
    shape = _shape([("c", True, 10.0)] * 5)
    assert shape.share(ProductFilter(min_price=50, max_price=40)) == 0.0
    assert shape.share(ProductFilter(min_price=20)) == 0.0
    assert 0 < shape.share(ProductFilter(min_price=10, max_price=10)) < 0.1  # one price: a sliver
    assert CatalogShape.of([]).share(ProductFilter(category_slug="c")) == 1.0


def test_products_without_a_price_pass_no_price_range():
    shape = CatalogShape.of([FilterCell("c", True, None, 2), FilterCell("c", True, price_bucket(5.0), 2)])
    assert shape.share(ProductFilter(category_slug="c")) == 1.0
    assert shape.share(ProductFilter(max_price=100)) == pytest.approx(0.5)


def test_products_without_a_category_count_for_any_category_only():
    shape = CatalogShape.of([FilterCell(None, None, None, 2), FilterCell("c", True, price_bucket(5.0), 2)])
    assert shape.share(ProductFilter()) == 1.0
    assert shape.share(ProductFilter(category_slug="c")) == pytest.approx(0.5)
    assert shape.share(ProductFilter(in_stock=True)) == pytest.approx(0.5)
