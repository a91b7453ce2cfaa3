from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Product, SyncStatus
from catalog.services import category_get_or_create, category_save, product_update
from search.indexing import product_record
from tests.conftest import graph_image_ids, graph_product_ids, jpeg_bytes
from tests.factories import image_add_from_bytes, product_make

pytestmark = pytest.mark.django_db


def test_saving_an_image_syncs_only_after_commit(memory_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        image = image_add_from_bytes(product_make(), jpeg_bytes())
    assert image.pk not in graph_image_ids(memory_graph)  # nothing happens inside the transaction
    for callback in callbacks:
        callback()
    image.refresh_from_db()
    assert image.sync_status == SyncStatus.SYNCED and image.pk in graph_image_ids(memory_graph)


def test_deleting_a_product_removes_it_from_the_graph(memory_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        product = product_make()
        image_add_from_bytes(product, jpeg_bytes())
    assert product.pk in graph_product_ids(memory_graph)
    with django_capture_on_commit_callbacks(execute=True):
        product.delete()
    assert graph_product_ids(memory_graph) == set() and graph_image_ids(memory_graph) == set()


def test_renaming_a_category_reaches_its_products_in_the_graph(
    memory_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        product = product_make(category="Fruit")
        image_add_from_bytes(product, jpeg_bytes())
    category = product.category
    category.name, category.slug = "Fresh fruit", "fresh-fruit"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        category_save(category=category)
    assert memory_graph.product_nodes[product.pk].category_slug == "fruit"  # only after commit
    for callback in callbacks:
        callback()
    record = memory_graph.product_nodes[product.pk]
    assert (record.category, record.category_slug) == ("Fresh fruit", "fresh-fruit")


def test_every_product_property_reaches_the_graph(memory_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        product = product_make(price="1.00")
        image_add_from_bytes(product, jpeg_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        product_update(
            product=product,
            name="Renamed",
            slug="renamed",
            price=Decimal("2.50"),
            in_stock=False,
            category=category_get_or_create(name="Other"),
        )
    assert memory_graph.products() == [product_record(Product.objects.get(pk=product.pk))]
    assert memory_graph.products()[0].price == 2.5 and memory_graph.products()[0].name == "Renamed"
