from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Category, Product, SyncStatus
from search.similarity import search_by_image

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_staff_add_a_product_with_an_image_in_the_admin_and_it_becomes_searchable(
    admin_client, demo_catalog, graph_cleanup, grocery_dir, django_capture_on_commit_callbacks
):
    path = grocery_dir / "train/Vegetables/Aubergine/Aubergine_020.jpg"
    category = Category.objects.get(name="Aubergine")
    form = {
        "name": "Admin aubergine", "slug": "admin-aubergine", "description": "Added in the admin",
        "price": "2.50", "category": category.pk, "in_stock": "on",
        "images-TOTAL_FORMS": "1", "images-INITIAL_FORMS": "0", "images-MIN_NUM_FORMS": "0", "images-MAX_NUM_FORMS": "1000",
        "images-0-image": SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg"),
        "images-0-position": "0",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:catalog_product_add"), form)
    assert response.status_code == 302, response.content[:2000]
    product = Product.objects.get(slug="admin-aubergine")
    graph_cleanup.append(product.pk)
    image = product.images.get()
    assert image.sync_status == SyncStatus.SYNCED

    query = SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")
    assert search_by_image(upload=query, k=1)[0].product == product

    change_page = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert b"synced" in change_page.content.lower() and image.image.url.encode() in change_page.content


def test_anonymous_users_cannot_reach_the_admin(client):
    response = client.get(reverse("admin:catalog_product_add"))
    assert response.status_code == 302 and "/login/" in response["Location"]
