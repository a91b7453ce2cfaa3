"""Writes need staff rights and, from a browser session, a CSRF token; media keeps safe names and types."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.middleware.security import SecurityMiddleware
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.static import serve
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Category, Product
from tests.conftest import jpeg_bytes
from tests.factories import image_add_from_bytes, product_make

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

NEW_PRODUCT = {"name": "CSRF kiwi", "price": "1.00", "category": "kiwi"}


@pytest.fixture
def kiwi() -> Category:
    return Category.objects.get_or_create(slug="kiwi", defaults={"name": "Kiwi"})[0]


def _csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def test_admin_forms_need_a_csrf_token(admin_user, kiwi):
    client = _csrf_client(admin_user)
    form = {
        **NEW_PRODUCT,
        "slug": "csrf-kiwi",
        "category": kiwi.pk,
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    url = reverse("admin:catalog_product_add")

    assert client.post(url, form).status_code == 403
    assert not Product.objects.filter(slug="csrf-kiwi").exists()
    client.get(url)  # sets the CSRF cookie, as a browser visiting the form would
    accepted = client.post(url, {**form, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert accepted.status_code == 302 and Product.objects.filter(slug="csrf-kiwi").exists()


def test_admin_login_and_photo_search_forms_need_a_csrf_token(admin_user):
    client = _csrf_client()
    assert client.post(reverse("admin:login"), {"username": "admin", "password": "x"}).status_code == 403
    assert client.post(reverse("search:photo-search"), {"photo": jpeg_bytes()}).status_code == 403


def test_api_writes_by_session_need_csrf_and_by_token_do_not(admin_user, kiwi):
    session = _csrf_client(admin_user)
    refused = session.post("/api/v1/products/", NEW_PRODUCT)
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]

    token = APIClient(enforce_csrf_checks=True)
    token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user).key}")
    assert token.post("/api/v1/products/", NEW_PRODUCT).status_code == 201


@pytest.mark.parametrize("who, status", [("anonymous", 401), ("shopper", 403)])
def test_api_and_admin_writes_need_staff_rights(who, status, django_user_model, kiwi, demo_catalog):
    api, client = APIClient(), Client()
    if who == "shopper":
        user = django_user_model.objects.create_user("shopper", password="x")
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        client.force_login(user)
    pid = demo_catalog["Pineapple"]
    assert api.post("/api/v1/products/", NEW_PRODUCT).status_code == status
    assert api.patch(f"/api/v1/products/{pid}/", {"price": "0.01"}).status_code == status
    assert api.delete(f"/api/v1/products/{pid}/").status_code == status
    assert (
        api.post(f"/api/v1/products/{pid}/images/", {"image": jpeg_bytes()}, format="multipart").status_code
        == status
    )
    admin = client.post(reverse("admin:catalog_product_delete", args=[pid]), {"post": "yes"})
    assert admin.status_code == 302 and "/login/" in admin["Location"]
    assert (
        Product.objects.filter(pk=pid).exists()
        and Product.objects.filter(name=NEW_PRODUCT["name"]).count() == 0
    )


def test_media_is_served_with_its_image_type_and_nosniff(memory_graph):
    image = image_add_from_bytes(product_make(), jpeg_bytes(), filename="../../etc/passwd.html")
    request = RequestFactory().get(f"/media/{image.image.name}")
    middleware = SecurityMiddleware(
        AuthenticationMiddleware(
            lambda r: serve(r, image.image.name, document_root=django_settings.MEDIA_ROOT)
        )
    )
    request.session = {}

    response = middleware(request)

    assert image.image.name.startswith("products/") and image.image.name.endswith(".jpg")
    assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
