"""The shop's product list: name, category, price and stock filters, checked input, pages that keep them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import product_make

pytestmark = pytest.mark.django_db

LIST = reverse("catalog:product-list")


@pytest.fixture
def shelf(memory_graph):
    product_make("Green apple", category="Apples", price="2.00")
    product_make("Red apple", category="Apples", price="6.00")
    sold_out = product_make("Yellow apple", category="Apples", price="3.00")
    sold_out.in_stock = False
    sold_out.save()
    product_make("Oat milk", category="Milk", price="2.50")


def names(response) -> set[str]:
    return {p.name for p in response.context["page"]}


def test_price_and_stock_filter_the_list_with_the_category_and_the_name(client, shelf):
    assert names(client.get(LIST, {"category": "apples", "max_price": "5"})) == {
        "Green apple",
        "Yellow apple",
    }
    assert names(client.get(LIST, {"category": "apples", "in_stock": "on"})) == {"Green apple", "Red apple"}
    assert names(client.get(LIST, {"min_price": "2.5", "max_price": "3", "q": "apple"})) == {"Yellow apple"}
    assert names(client.get(LIST, {"in_stock": ""})) == {
        "Green apple",
        "Red apple",
        "Yellow apple",
        "Oat milk",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "cheap", "category": "milk"}, "min_price"),
        ({"category": "no-such-category", "max_price": "2.2"}, "category"),
        ({"min_price": "5", "max_price": "1"}, "max_price"),
        ({"max_price": "-1", "q": "red"}, "max_price"),
        ({"q": "a" * 101}, "q"),
        ({"q": "nul\x00"}, "q"),
    ],
)
def test_a_bad_filter_is_shown_with_its_error_and_matches_nothing(client, shelf, params, field):
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert b'class="errorlist' in response.content and b"No products match these filters." in response.content
    assert names(response) == set()


def test_page_links_keep_the_filters(client, memory_graph):
    for i in range(30):
        product_make(f"Pear {i}", category="Pears", price="1.00")
    product_make("Plum", category="Plums", price="1.00")
    response = client.get(LIST, {"category": "pears", "max_price": "1.5"})
    assert len(response.context["page"]) == 24
    next_link = response.context["page"].number + 1
    assert f'href="?category=pears&amp;max_price=1.5&amp;page={next_link}"'.encode() in response.content
    second = client.get(LIST, {"category": "pears", "max_price": "1.5", "page": next_link})
    assert len(second.context["page"]) == 6 and all(p.name.startswith("Pear") for p in second.context["page"])
