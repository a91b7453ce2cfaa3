from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from catalog.models import Product
from search.graph import GraphMisconfigured, GraphUnavailable
from tests.conftest import jpeg_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _photo(path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def test_products_are_listed_filtered_and_paginated(api, demo_catalog):
    body = api.get("/api/v1/products/", {"category": "apple", "ordering": "-price"}).json()
    assert body["count"] == 5
    prices = [float(p["price"]) for p in body["results"]]
    assert prices == sorted(prices, reverse=True)
    assert all(p["category"]["slug"] == "apple" for p in body["results"])
    assert body["results"][0]["images"][0]["url"].startswith("http://testserver/media/products/")
    assert body["results"][0]["images"][0]["thumbnail_url"].startswith("http://testserver/media/thumbs/")


@pytest.mark.parametrize("params", [{"min_price": "-1"}, {"ordering": "weight"}, {"in_stock": "perhaps"}])
def test_bad_filters_are_400_with_the_error_shape(api, demo_catalog, params):
    response = api.get("/api/v1/products/", params)
    assert response.status_code == 400
    assert set(response.json()["error"]) >= {"code", "message", "details"}


def test_product_detail_and_unknown_ids(api, demo_catalog):
    product_id = demo_catalog["Pineapple"]
    assert api.get(f"/api/v1/products/{product_id}/").json()["name"] == "Pineapple"
    missing = api.get("/api/v1/products/999999/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_similar_products_come_with_scores_best_first(api, demo_catalog):
    response = api.get(f"/api/v1/products/{demo_catalog['Granny Smith']}/similar/", {"limit": 3})
    matches = response.json()
    assert response.status_code == 200 and 1 <= len(matches) <= 3
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)
    assert (
        api.get(f"/api/v1/products/{demo_catalog['Granny Smith']}/similar/", {"limit": 0}).status_code == 400
    )


def test_categories(api, demo_catalog):
    names = [c["name"] for c in api.get("/api/v1/categories/").json()]
    assert "Apple" in names and names == sorted(names)


def test_search_by_photo_returns_ranked_products(api, demo_catalog, grocery_dir):
    path = (
        grocery_dir
        / "iconic-images-and-descriptions/Packages/Yoghurt/Natural-Yoghurt/Arla-Natural-Yoghurt/Arla-Natural-Yoghurt_Iconic.jpg"
    )
    if not path.exists():
        path = next((grocery_dir / "iconic-images-and-descriptions").rglob("*Yoghurt*_Iconic.jpg"))
    expected = path.stem.removesuffix("_Iconic").replace("-", " ")
    response = api.post("/api/v1/search/", {"image": _photo(path), "k": 4}, format="multipart")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 4 and results[0]["product"]["name"] == expected
    assert (
        Product.objects.get(pk=results[0]["product"]["id"]).images.filter(pk=results[0]["image_id"]).exists()
    )


@pytest.mark.parametrize(
    "data, status, code",
    [
        (b"GIF89a broken", 400, "invalid_image"),
        (b"", 400, "invalid"),
    ],
)
def test_search_rejects_bad_uploads(api, demo_catalog, data, status, code):
    response = api.post("/api/v1/search/", {"image": SimpleUploadedFile("x.gif", data)}, format="multipart")
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_search_rejects_oversized_uploads_with_413(api, demo_catalog, settings):
    settings.LOOKALIKE_MAX_UPLOAD_BYTES = 500
    upload = SimpleUploadedFile(
        "big.jpg", jpeg_bytes(size=(300, 300), quality=100), content_type="image/jpeg"
    )
    response = api.post("/api/v1/search/", {"image": upload}, format="multipart")
    assert response.status_code == 413 and response.json()["error"]["code"] == "upload_too_large"


def test_search_is_503_with_retry_after_when_the_graph_is_down(api, demo_catalog, monkeypatch):
    from search import similarity

    def down(*args, **kwargs):
        raise GraphUnavailable("simulated")

    monkeypatch.setattr(similarity, "products_nearest", down)
    upload = SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = api.post("/api/v1/search/", {"image": upload}, format="multipart")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json()["error"]["code"] == "search_unavailable"


def test_search_is_500_without_retry_when_the_graph_refuses_the_settings(api, demo_catalog, monkeypatch):
    from search import similarity

    def misconfigured(*args, **kwargs):
        raise GraphMisconfigured("simulated wrong password")

    monkeypatch.setattr(similarity, "products_nearest", misconfigured)
    upload = SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = api.post("/api/v1/search/", {"image": upload}, format="multipart")
    assert response.status_code == 500 and "Retry-After" not in response
    assert response.json()["error"]["code"] == "search_misconfigured"


def test_writes_are_refused_to_anonymous_clients(api, demo_catalog):
    response = api.post("/api/v1/products/", {"name": "x"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"
    assert not Product.objects.filter(name="x").exists()


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/products/", "/api/v1/products/{id}/similar/", "/api/v1/search/"} <= set(paths)
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower()


def _search(api, **fields):
    return api.post("/api/v1/search/", fields, format="multipart")


def test_search_filters_return_k_matching_products(api, demo_catalog, grocery_dir):
    path = grocery_dir / "train/Packages/Milk/Arla-Standard-Milk/Arla-Standard-Milk_020.jpg"
    # Apples are 20 of 324 images (6%): a filter that would starve a post-filtered top-k.
    results = _search(api, image=_photo(path), k=5, category="apple").json()["results"]
    assert len(results) == 5 and {r["product"]["category"]["slug"] for r in results} == {"apple"}
    cheap = _search(api, image=_photo(path), k=5, max_price="3").json()["results"]
    assert len(cheap) == 5 and all(float(r["product"]["price"]) <= 3 for r in cheap)


def test_search_pages_join_up_and_min_score_cuts(api, demo_catalog, grocery_dir):
    path = grocery_dir / "train/Fruit/Kiwi/Kiwi_020.jpg"
    whole = [r["product"]["id"] for r in _search(api, image=_photo(path), k=6).json()["results"]]
    pages = [
        r["product"]["id"]
        for offset in (0, 3)
        for r in _search(api, image=_photo(path), k=3, offset=offset).json()["results"]
    ]
    assert pages == whole
    strict = _search(api, image=_photo(path), k=20, min_score="0.6").json()["results"]
    assert all(r["score"] >= 0.6 for r in strict) and len(strict) < 20


def test_more_like_this_less_like_that(api, demo_catalog):
    granny, golden = demo_catalog["Granny Smith"], demo_catalog["Golden Delicious"]
    liked = _search(api, liked=str(granny), k=5).json()["results"]
    assert liked and granny not in {r["product"]["id"] for r in liked}
    without_golden = _search(api, liked=str(granny), disliked=str(golden), k=5).json()["results"]
    assert {granny, golden}.isdisjoint(r["product"]["id"] for r in without_golden)
    missing = _search(api, liked="999999")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "invalid_query"
    nothing = _search(api, k=3)
    assert nothing.status_code == 400 and "image" in nothing.json()["error"]["details"]


def test_search_a_region_of_a_photo(api, demo_catalog, grocery_dir):
    path = grocery_dir / "iconic-images-and-descriptions/Fruit/Pineapple/Pineapple_Iconic.jpg"
    whole = _search(api, image=_photo(path), k=1, crop="0,0,198,198").json()["results"]
    assert whole[0]["product"]["name"] == "Pineapple"  # the full 198x198 frame
    outside = _search(api, image=_photo(path), crop="150,150,100,100")
    assert outside.status_code == 400 and "does not lie within" in outside.json()["error"]["message"]
    malformed = _search(api, image=_photo(path), crop="1,2,3")
    assert malformed.status_code == 400 and "crop" in malformed.json()["error"]["details"]


def test_similar_products_filters_and_pages(api, demo_catalog):
    url = f"/api/v1/products/{demo_catalog['Granny Smith']}/similar/"
    whole = [m["product"]["id"] for m in api.get(url, {"limit": 6}).json()]
    pages = [
        m["product"]["id"] for offset in (0, 3) for m in api.get(url, {"limit": 3, "offset": offset}).json()
    ]
    assert pages == whole
    apples = api.get(url, {"category": "apple"}).json()
    assert apples and {m["product"]["category"]["slug"] for m in apples} == {"apple"}
    strict = api.get(url, {"min_score": "0.99"}).json()
    assert all(m["score"] >= 0.99 for m in strict)


def test_anonymous_search_is_throttled_but_staff_is_not(api, demo_catalog, monkeypatch, admin_user):
    from search.api.views import SearchAnonThrottle

    monkeypatch.setattr(SearchAnonThrottle, "get_rate", lambda self: "2/min")
    statuses = [_search(api, liked=str(demo_catalog["Pineapple"]), k=1).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = _search(api, liked=str(demo_catalog["Pineapple"]), k=1)
    assert limited.json()["error"]["code"] == "throttled" and int(limited["Retry-After"]) > 0
    api.force_authenticate(admin_user)
    assert _search(api, liked=str(demo_catalog["Pineapple"]), k=1).status_code == 200
