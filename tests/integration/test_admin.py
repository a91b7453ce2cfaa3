from __future__ import annotations

import io

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.admin import near_duplicates_warn
from catalog.models import Category, Product, ProductImage, SyncStatus
from search.duplicates import image_near_duplicates
from search.graph import GraphUnavailable, graph_store
from search.similarity import product_similar_list, search_by_image

pytestmark = [pytest.mark.integration, pytest.mark.also_sqlite, pytest.mark.django_db]


def test_staff_add_a_product_with_an_image_in_the_admin_and_it_becomes_searchable(
    admin_client, demo_catalog, graph_cleanup, grocery_dir, django_capture_on_commit_callbacks
):
    path = grocery_dir / "train/Vegetables/Aubergine/Aubergine_020.jpg"
    category = Category.objects.get(name="Aubergine")
    form = {
        "name": "Admin aubergine",
        "slug": "admin-aubergine",
        "description": "Added in the admin",
        "price": "2.50",
        "category": category.pk,
        "in_stock": "on",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
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


def _product_form(name: str, category: Category, image: SimpleUploadedFile) -> dict:
    return {
        "name": name,
        "slug": name.lower().replace(" ", "-"),
        "description": "",
        "price": "1.00",
        "category": category.pk,
        "in_stock": "on",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-image": image,
        "images-0-position": "0",
    }


def _resized_jpeg(path, share: float) -> bytes:
    picture = Image.open(path).convert("RGB")
    picture = picture.resize((int(picture.width * share), int(picture.height * share)))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def test_uploading_a_near_duplicate_of_another_products_photo_is_flagged_with_a_link(
    admin_client, rf, demo_catalog, graph_cleanup, grocery_dir, django_capture_on_commit_callbacks
):
    original = Product.objects.get(name="Granny Smith")
    # One of Granny Smith's shop photos, resized and re-encoded as a copy saved from a web page would be.
    copy = _resized_jpeg(grocery_dir / "train/Fruit/Apple/Granny-Smith/Granny-Smith_001.jpg", 0.7)
    form = _product_form(
        "Green apple again",
        original.category,
        SimpleUploadedFile("copy.jpg", copy, content_type="image/jpeg"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(reverse("admin:catalog_product_add"), form).status_code == 302
    product = Product.objects.get(slug="green-apple-again")
    graph_cleanup.append(product.pk)

    change_page = admin_client.get(
        reverse("admin:catalog_product_change", args=[product.pk])
    ).content.decode()
    link = reverse("admin:catalog_product_change", args=[original.pk])
    cell = change_page[change_page.index('class="field-duplicates"') :][:600]
    assert f'near-duplicate of <a href="{link}">Granny Smith</a>' in cell, cell

    # After a save the same finding arrives as a message (sent once the image's sync has committed).
    request = rf.post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    near_duplicates_warn(request, [product.images.get().pk])
    [warning] = list(request._messages)
    assert warning.level_tag == "warning" and link in str(warning) and "Granny Smith" in str(warning)


def test_a_different_photo_of_the_same_kind_is_not_a_near_duplicate(
    admin_client, demo_catalog, graph_cleanup, grocery_dir, django_capture_on_commit_callbacks
):
    # Cosine 0.59 at most to the demo's aubergine photos: another aubergine, not the same photo.
    path = grocery_dir / "train/Vegetables/Aubergine/Aubergine_020.jpg"
    form = _product_form(
        "Another aubergine",
        Category.objects.get(name="Aubergine"),
        SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(reverse("admin:catalog_product_add"), form).status_code == 302
    product = Product.objects.get(slug="another-aubergine")
    graph_cleanup.append(product.pk)
    image = product.images.get()
    assert image.sync_status == SyncStatus.SYNCED
    assert image_near_duplicates(image.pk) == []
    assert (
        b"near-duplicate of"
        not in admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content
    )


def test_product_change_page_lists_its_similar_items_with_links_and_scores(admin_client, demo_catalog):
    product = Product.objects.get(name="Granny Smith")
    page = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()
    matches = product_similar_list(product_id=product.pk)
    assert matches
    for match in matches:
        assert reverse("admin:catalog_product_change", args=[match.product.pk]) in page
        assert f"{match.score:.3f}" in page


def test_admin_index_shows_graph_health(admin_client, demo_catalog):
    page = admin_client.get(reverse("admin:index")).content.decode()
    health = page[page.index('id="graph-health"') :]
    assert (
        ">up<" in health and f"{Product.objects.filter(images__isnull=False).distinct().count()} / " in health
    )
    assert "ONLINE" in health and "Pending images" in health


def test_admin_index_still_renders_while_the_graph_is_down(admin_client, demo_catalog, monkeypatch):
    store = graph_store()

    def down():
        raise GraphUnavailable("simulated outage")

    monkeypatch.setattr(store, "stats", down)
    response = admin_client.get(reverse("admin:index"))
    assert (
        response.status_code == 200
        and b">down<" in response.content
        and b"simulated outage" in response.content
    )


def test_reembed_action_recomputes_the_embedding_and_syncs(
    admin_client, demo_catalog, django_capture_on_commit_callbacks
):
    image = Product.objects.get(name="Kiwi").images.first()
    ProductImage.objects.filter(pk=image.pk).update(embedding=b"\0" * 8, sync_status=SyncStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:catalog_productimage_changelist"),
            {"action": "reembed", "_selected_action": [image.pk]},
            follow=True,
        )
    assert b"1 images queued for re-embedding" in response.content
    image.refresh_from_db()
    assert image.sync_status == SyncStatus.SYNCED and len(bytes(image.embedding)) == 1280 * 4
