"""The admin writes through catalog.services (files go with their rows) and reads without a query or a
graph call per row. In-memory graph store; real weights for the sync the saves trigger."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Category, Product, ProductImage
from tests.conftest import graph_image_ids, graph_product_ids, jpeg_bytes
from tests.factories import image_add_from_bytes, product_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def product_with_images(memory_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        product = product_make("Admin product")
        images = [image_add_from_bytes(product, jpeg_bytes(color=(40 * i, 90, 200))) for i in range(2)]
    return product, images


def _change_form(product: Product, images: list[ProductImage], **extra) -> dict:
    form = {
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "price": str(product.price),
        "category": product.category_id,
        "in_stock": "on",
        "images-TOTAL_FORMS": str(len(images) + 1),
        "images-INITIAL_FORMS": str(len(images)),
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    for n, image in enumerate(images):
        form |= {f"images-{n}-id": image.pk, f"images-{n}-product": product.pk, f"images-{n}-position": n}
    return form | extra


def test_deleting_a_product_in_the_admin_removes_its_files(
    admin_client, product_with_images, memory_graph, django_capture_on_commit_callbacks
):
    product, images = product_with_images
    names = [image.image.name for image in images]
    assert all(default_storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:catalog_product_delete", args=[product.pk]), {"post": "yes"}
        )
    assert response.status_code == 302 and not Product.objects.filter(pk=product.pk).exists()
    assert not any(default_storage.exists(name) for name in names)
    assert product.pk not in graph_product_ids(memory_graph)


def test_the_delete_action_removes_files_too(
    admin_client, product_with_images, django_capture_on_commit_callbacks
):
    product, images = product_with_images
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:catalog_productimage_changelist"),
            {"action": "delete_selected", "_selected_action": [images[0].pk], "post": "yes"},
        )
    assert not default_storage.exists(images[0].image.name) and default_storage.exists(images[1].image.name)


def test_inline_images_are_added_replaced_and_deleted_through_the_services(
    admin_client, product_with_images, memory_graph, django_capture_on_commit_callbacks
):
    product, images = product_with_images
    url = reverse("admin:catalog_product_change", args=[product.pk])
    new = SimpleUploadedFile("new.jpg", jpeg_bytes(color=(1, 200, 1)), content_type="image/jpeg")
    replacement = SimpleUploadedFile("again.jpg", jpeg_bytes(color=(250, 250, 1)), content_type="image/jpeg")
    form = _change_form(
        product,
        images,
        **{
            "images-0-DELETE": "on",
            "images-1-image": replacement,
            f"images-{len(images)}-image": new,
            f"images-{len(images)}-position": "5",
        },
    )
    embedding_before = ProductImage.objects.get(pk=images[1].pk).embedding
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(url, form)
        assert response.status_code == 302, response.content[:3000]
        added = product.images.get(position=5)
        assert added.content_hash  # set by product_image_add, before any sync ran
    for callback in callbacks:
        callback()
    assert not default_storage.exists(images[0].image.name)  # deleted image's file
    assert not default_storage.exists(images[1].image.name)  # replaced file
    replaced = ProductImage.objects.get(pk=images[1].pk)
    assert default_storage.exists(replaced.image.name) and replaced.image.name != images[1].image.name
    # Re-embedded from the new photo, not left with the old one's vector.
    assert embedding_before and replaced.embedding and replaced.embedding != embedding_before
    assert graph_image_ids(memory_graph) == {images[1].pk, added.pk}


def test_renaming_a_category_in_the_admin_reaches_the_graph(
    admin_client, product_with_images, memory_graph, django_capture_on_commit_callbacks
):
    product, _ = product_with_images
    category = product.category
    url = reverse("admin:catalog_category_change", args=[category.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, {"name": "Renamed", "slug": "renamed"}).status_code == 302
    assert memory_graph.product_nodes[product.pk].category_slug == "renamed"


def _changelist_queries(admin_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(reverse("admin:catalog_product_changelist")).status_code == 200
    return len(queries)


def test_the_product_list_costs_the_same_queries_for_any_number_of_rows(admin_client, memory_graph):
    category = Category.objects.create(name="Bulk", slug="bulk")
    Product.objects.create(name="p0", slug="p0", price=1, category=category)
    few = _changelist_queries(admin_client)
    for n in range(1, 8):
        Product.objects.create(name=f"p{n}", slug=f"p{n}", price=1, category=category)
    assert _changelist_queries(admin_client) == few


def test_the_image_inline_asks_the_graph_once_per_page(
    admin_client, product_with_images, memory_graph, monkeypatch
):
    product, images = product_with_images
    calls = []
    original = memory_graph.nearest_images_many
    monkeypatch.setattr(
        memory_graph, "nearest_images_many", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    page = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert page.status_code == 200 and page.content.count(b'class="field-duplicates"') >= len(images)
    assert len(calls) == 1
