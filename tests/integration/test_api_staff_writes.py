from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Category, Product, ProductImage
from tests.conftest import jpeg_bytes
from tests.integration.graph_cypher import cypher

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def staff_api(admin_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user).key}")
    return client


def _product_node(product_id: int):
    rows = cypher(
        "MATCH (p:Product {product_id: $id}) OPTIONAL MATCH (p)-[:HAS_IMAGE]->(i) RETURN p.price, collect(i.image_id)",
        {"id": product_id},
    )
    return rows[0] if rows else None


def test_staff_create_a_product_add_an_image_edit_and_delete_it(
    staff_api, demo_catalog, graph_cleanup, grocery_dir, django_capture_on_commit_callbacks
):
    Category.objects.get_or_create(slug="kiwi", defaults={"name": "Kiwi"})
    with django_capture_on_commit_callbacks(execute=True):
        created = staff_api.post(
            "/api/v1/products/", {"name": "API kiwi", "price": "3.10", "category": "kiwi"}
        )
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    graph_cleanup.append(product_id)
    assert created.json()["slug"] == "api-kiwi"

    path = grocery_dir / "train/Fruit/Kiwi/Kiwi_030.jpg"
    with django_capture_on_commit_callbacks(execute=True):
        added = staff_api.post(
            f"/api/v1/products/{product_id}/images/",
            {"image": SimpleUploadedFile(path.name, path.read_bytes())},
            format="multipart",
        )
    assert added.status_code == 201 and added.json()["sync_status"] in ("pending", "synced")
    image_id = added.json()["id"]
    assert ProductImage.objects.get(pk=image_id).sync_status == "synced"  # once the commit's sync has run
    assert _product_node(product_id)[1] == [image_id]

    search = APIClient().post(
        "/api/v1/search/",
        {"image": SimpleUploadedFile(path.name, path.read_bytes()), "k": 1},
        format="multipart",
    )
    assert search.json()["results"][0]["product"]["id"] == product_id

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_api.patch(f"/api/v1/products/{product_id}/", {"price": "4.20"}).json()["price"] == "4.20"
    assert _product_node(product_id)[0] == pytest.approx(4.2)

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_api.delete(f"/api/v1/products/{product_id}/images/{image_id}/").status_code == 204
    assert _product_node(product_id)[1] == []
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_api.delete(f"/api/v1/products/{product_id}/").status_code == 204
    assert _product_node(product_id) is None and not Product.objects.filter(pk=product_id).exists()


@pytest.mark.parametrize(
    "data, status, code",
    [
        (b"%PDF-1.4 not an image", 400, "invalid_image"),
        (jpeg_bytes()[:100], 400, "invalid_image"),
        (b"", 400, "invalid"),
    ],
)
def test_bad_image_uploads_store_nothing(staff_api, demo_catalog, data, status, code):
    product_id = demo_catalog["Pineapple"]
    before = ProductImage.objects.count()
    response = staff_api.post(
        f"/api/v1/products/{product_id}/images/",
        {"image": SimpleUploadedFile("x.jpg", data)},
        format="multipart",
    )
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert ProductImage.objects.count() == before


def test_oversized_image_upload_is_413(staff_api, demo_catalog, settings):
    settings.LOOKALIKE_MAX_UPLOAD_BYTES = 500
    response = staff_api.post(
        f"/api/v1/products/{demo_catalog['Pineapple']}/images/",
        {"image": SimpleUploadedFile("x.jpg", jpeg_bytes(size=(300, 300), quality=100))},
        format="multipart",
    )
    assert response.status_code == 413


def test_write_validation_errors_are_400(staff_api, demo_catalog):
    duplicate = staff_api.post(
        "/api/v1/products/", {"name": "Dup", "slug": "pineapple", "price": "1", "category": "apple"}
    )
    assert duplicate.status_code == 400 and "slug" in duplicate.json()["error"]["details"]
    unknown_category = staff_api.post("/api/v1/products/", {"name": "X", "price": "1", "category": "no-such"})
    assert unknown_category.status_code == 400 and "category" in unknown_category.json()["error"]["details"]
    assert staff_api.delete(f"/api/v1/products/{demo_catalog['Pineapple']}/images/999999/").status_code == 404


def test_non_staff_users_cannot_write(demo_catalog, django_user_model):
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("shopper", password="x"))
    response = client.patch(f"/api/v1/products/{demo_catalog['Pineapple']}/", {"price": "0.01"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert str(Product.objects.get(pk=demo_catalog["Pineapple"]).price) != "0.01"
