"""API v2: products, similar items and search answer one page shape, paged by limit/offset in the query."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PAGE_KEYS = {"count", "next", "previous", "results"}


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _photo(path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def _ids(page: dict) -> list[int]:
    return [row["product"]["id"] if "product" in row else row["id"] for row in page["results"]]


def test_product_pages_are_limit_offset_with_links(api, demo_catalog):
    first = api.get("/api/v2/products/", {"limit": 5}).json()
    assert set(first) == PAGE_KEYS and first["count"] == len(demo_catalog) and first["previous"] is None
    assert len(first["results"]) == 5 and "offset=5" in first["next"]
    second = api.get(first["next"]).json()
    assert "limit=5" in second["previous"]
    assert _ids(api.get("/api/v2/products/", {"limit": 10}).json()) == _ids(first) + _ids(second)
    bad = api.get("/api/v2/products/", {"offset": "null"})
    assert bad.status_code == 400 and "offset" in bad.json()["error"]["details"]


def test_similar_items_come_as_pages_that_join_up(api, demo_catalog):
    url = f"/api/v2/products/{demo_catalog['Granny Smith']}/similar/"
    whole = api.get(url, {"limit": 6}).json()
    assert set(whole) == PAGE_KEYS and whole["count"] is None and len(whole["results"]) == 6
    first = api.get(url, {"limit": 3}).json()
    assert first["previous"] is None and "offset=3" in first["next"] and "limit=3" in first["next"]
    second = api.get(first["next"]).json()
    assert _ids(first) + _ids(second) == _ids(whole)
    assert "offset" not in second["previous"] and "limit=3" in second["previous"]
    apples = api.get(url, {"category": "apple", "limit": 50}).json()
    assert apples["next"] is None and {r["product"]["category"]["slug"] for r in apples["results"]} == {
        "apple"
    }
    assert api.get(url, {"limit": 0}).status_code == 400
    assert api.get("/api/v2/products/999999/similar/").json()["error"]["code"] == "not_found"


def test_search_pages_are_in_the_query_and_next_is_where_to_post_again(api, demo_catalog, grocery_dir):
    path = grocery_dir / "train/Fruit/Kiwi/Kiwi_020.jpg"
    whole = api.post("/api/v2/search/?limit=6", {"image": _photo(path)}, format="multipart").json()
    assert set(whole) == PAGE_KEYS and whole["count"] is None and len(whole["results"]) == 6
    first = api.post("/api/v2/search/?limit=3", {"image": _photo(path)}, format="multipart").json()
    assert first["previous"] is None and "offset=3" in first["next"]
    second = api.post(first["next"], {"image": _photo(path)}, format="multipart").json()
    assert _ids(first) + _ids(second) == _ids(whole)
    assert "offset" not in second["previous"] and "limit=3" in second["previous"]
    bad = api.post("/api/v2/search/?limit=101", {"image": _photo(path)}, format="multipart")
    assert bad.status_code == 400 and "limit" in bad.json()["error"]["details"]


def test_v1_keeps_its_shapes_for_one_release(api, demo_catalog):
    granny = demo_catalog["Granny Smith"]
    assert set(api.get("/api/v1/products/", {"page": 2}).json()) == PAGE_KEYS
    assert isinstance(api.get(f"/api/v1/products/{granny}/similar/").json(), list)
    search = api.post("/api/v1/search/", {"liked": str(granny), "k": 2}, format="multipart").json()
    assert set(search) == {"results"} and len(search["results"]) == 2


def test_every_list_is_documented_with_the_one_shape(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schemas = document["components"]["schemas"]
    for path, method in [
        ("/api/v2/products/", "get"),
        ("/api/v2/products/{id}/similar/", "get"),
        ("/api/v2/search/", "post"),
    ]:
        operation = document["paths"][path][method]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert set(schemas[ref.rsplit("/", 1)[1]]["properties"]) == PAGE_KEYS, path
        assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}, path
