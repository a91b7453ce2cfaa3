from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from core.filters import ProductFilter, id_list_parse, product_filter_from


@pytest.mark.parametrize(
    "text, expected", [("12,40", (12, 40)), (" 3 , 4 ,", (3, 4)), ("", ()), ("-2", (-2,))]
)
def test_id_lists_parse(text, expected):
    assert id_list_parse(text, max_items=5) == expected


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("1,x", {}, "comma-separated"),
        ("1,2,3", {"max_items": 2}, "at most 2"),
        ("1,2", {"count": 4}, "exactly 4"),
    ],
)
def test_bad_id_lists_say_why(text, kwargs, message):
    with pytest.raises(ValueError, match=message):
        id_list_parse(text, **{"max_items": 20, **kwargs})


def test_filters_from_form_and_serializer_data_agree():
    category = SimpleNamespace(slug="apple")  # a form gives the Category, a serializer its slug
    from_form = product_filter_from({"category": category, "min_price": Decimal("1.50"), "in_stock": True})
    from_api = product_filter_from({"category": "apple", "min_price": 1.5, "in_stock": True})
    assert from_form == from_api == ProductFilter(category_slug="apple", min_price=1.5, in_stock=True)
    assert product_filter_from({"category": "", "max_price": None}) == ProductFilter()
