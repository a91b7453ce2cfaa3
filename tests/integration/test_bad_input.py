"""Bad input through every entry point: a clear error, nothing stored, nothing lost, the graph untouched."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Category, Product, ProductImage, SyncStatus
from tests import images
from tests.integration.graph_cypher import cypher

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

INVALID = sorted(images.invalid(Image.new("RGB", (320, 240))))
ODD = sorted(images.odd_but_valid(Image.new("RGB", (320, 240))))
HOSTILE_STRINGS = [
    "' OR 1=1 //",
    "}) MATCH (n) DETACH DELETE n //",
    '") CALL db.clearQueryCaches() //',
    "$f_category",
    "🍎 Äpfel grün ✓",
    "a" * 5000,
    "\u202e\u0000nul",
    "../../etc/passwd",
]
NOT_SLUGS = [s for s in HOSTILE_STRINGS if not re.fullmatch(r"[-\w]+", s)]
ODD_SUFFIXES = {
    "cmyk_jpeg": ".jpg",
    "rgb48_png": ".png",
    "alpha_png": ".png",
    "palette_png": ".png",
    "palette_gif": ".gif",
    "webp": ".webp",
    "mpo_two_pictures": ".jpg",
}


@pytest.fixture(scope="module")
def photo(grocery_dir) -> Image.Image:
    return images.demo_photo(grocery_dir)


@pytest.fixture
def staff_api(admin_user) -> APIClient:
    Category.objects.get_or_create(slug="kiwi", defaults={"name": "Kiwi"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user).key}")
    return client


def _graph_counts() -> tuple[int, int, int]:
    [[nodes, relationships, labels]] = cypher(
        "CALL () { MATCH (n) RETURN count(n) AS nodes } CALL () { MATCH ()-[r]->() RETURN count(r) AS rels } "
        "CALL () { MATCH (n) UNWIND labels(n) AS l RETURN count(DISTINCT l) AS labels } RETURN nodes, rels, labels"
    )
    return nodes, relationships, labels


def _media_files() -> set[Path]:
    return {p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()}


@pytest.fixture
def nothing_changes(demo_catalog):
    """The catalog rows, the stored files and the whole graph are the same after the test as before."""
    before = (ProductImage.objects.count(), Product.objects.count(), _media_files(), _graph_counts())
    yield
    assert (ProductImage.objects.count(), Product.objects.count(), _media_files(), _graph_counts()) == before


def _upload(data: bytes, name: str = "upload.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


@pytest.mark.parametrize("kind", INVALID)
def test_invalid_files_are_refused_by_the_search_api_the_staff_api_and_the_admin(
    kind, photo, staff_api, admin_client, demo_catalog, nothing_changes
):
    data = images.invalid(photo)[kind]
    search = APIClient().post("/api/v1/search/", {"image": _upload(data)}, format="multipart")
    assert search.status_code == 400 and search.json()["error"]["code"] in {"invalid_image", "invalid"}
    assert search.json()["error"]["message"]

    product_id = demo_catalog["Pineapple"]
    staff = staff_api.post(
        f"/api/v1/products/{product_id}/images/", {"image": _upload(data)}, format="multipart"
    )
    assert staff.status_code == 400 and staff.json()["error"]["code"] in {"invalid_image", "invalid"}

    admin = admin_client.post(
        reverse("admin:catalog_productimage_add"),
        {"product": product_id, "position": 0, "image": _upload(data)},
    )
    assert admin.status_code == 200 and admin.context["adminform"].form.errors["image"]

    page = admin_client.post(reverse("search:photo-search"), {"photo": _upload(data)})
    assert page.status_code == 400 and b"Traceback" not in page.content


def test_files_over_the_byte_limit_are_413_and_refused_in_the_admin(
    photo, staff_api, admin_client, demo_catalog, settings, nothing_changes
):
    data = images.encode(photo, "PNG")
    settings.LOOKALIKE_MAX_UPLOAD_BYTES = len(data) - 1
    product_id = demo_catalog["Pineapple"]
    assert (
        APIClient().post("/api/v1/search/", {"image": _upload(data)}, format="multipart").status_code == 413
    )
    staff = staff_api.post(
        f"/api/v1/products/{product_id}/images/", {"image": _upload(data)}, format="multipart"
    )
    assert staff.status_code == 413 and staff.json()["error"]["code"] == "upload_too_large"
    admin = admin_client.post(
        reverse("admin:catalog_productimage_add"),
        {"product": product_id, "position": 0, "image": _upload(data)},
    )
    assert "the limit is" in str(admin.context["adminform"].form.errors["image"])


@pytest.mark.parametrize("kind", ODD)
def test_odd_but_valid_files_are_stored_under_their_real_format_and_synced(
    kind, photo, staff_api, demo_catalog, graph_cleanup, django_capture_on_commit_callbacks
):
    created = staff_api.post(
        "/api/v1/products/", {"name": f"Odd {kind}", "price": "1.00", "category": "kiwi"}
    )
    assert created.status_code == 201, created.content
    graph_cleanup.append(created.json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        added = staff_api.post(
            f"/api/v1/products/{created.json()['id']}/images/",
            {"image": _upload(images.odd_but_valid(photo)[kind], "../../etc/passwd.exe")},
            format="multipart",
        )
    assert added.status_code == 201, added.content
    image = ProductImage.objects.get(pk=added.json()["id"])
    assert image.sync_status == SyncStatus.SYNCED
    assert image.image.name.startswith("products/") and image.image.name.endswith(ODD_SUFFIXES[kind])
    assert Path(image.image.path).resolve().is_relative_to(Path(django_settings.MEDIA_ROOT).resolve())

    search = APIClient().post(
        "/api/v1/search/", {"image": _upload(images.encode(photo, "PNG")), "k": 5}, format="multipart"
    )
    scores = {r["product"]["id"]: r["score"] for r in search.json()["results"]}
    assert scores.get(created.json()["id"], 0) >= 0.95  # the plain photo finds its odd twin


@pytest.mark.parametrize(
    "params",
    [
        {"k": "-1"},
        {"k": "0"},
        {"k": "1000000000000"},
        {"k": "abc"},
        {"offset": "-5"},
        {"offset": "99999999"},
        {"min_score": "2"},
        {"min_score": "nan"},
        {"min_price": "-1"},
        {"max_price": "1e400"},
        {"in_stock": "maybe"},
        {"liked": "1,abc"},
        {"liked": ",".join(["1"] * 50)},
        {"crop": "0,0,-5,10"},
        {"crop": "1,2,3"},
        *({"category": s} for s in NOT_SLUGS),
    ],
)
def test_bad_search_parameters_are_400(params, photo, nothing_changes):
    response = APIClient().post(
        "/api/v1/search/", {"image": _upload(images.encode(photo, "JPEG")), **params}, format="multipart"
    )
    assert response.status_code == 400, (params, response.content[:300])
    assert response.json()["error"]["code"] in {"invalid", "invalid_query", "invalid_image"}


def test_unknown_ids_are_404_or_400(demo_catalog, nothing_changes):
    client = APIClient()
    assert client.get("/api/v1/products/999999999/").status_code == 404
    assert client.get("/api/v1/products/999999999/similar/").status_code == 404
    assert client.get("/api/v1/products/-1/").status_code == 404
    liked = client.post("/api/v1/search/", {"liked": "999999999"}, format="multipart")
    assert liked.status_code == 400 and liked.json()["error"]["code"] == "invalid_query"
    assert (
        client.get(reverse("catalog:product-detail", kwargs={"slug": "no-such-product"})).status_code == 404
    )


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_strings_in_every_text_field_and_filter_leave_the_graph_untouched(
    text, demo_catalog, client, staff_api, nothing_changes
):
    api = APIClient()
    pid = demo_catalog["Pineapple"]
    for params in ({"q": text}, {"category": text}, {"ordering": text}, {"q": text, "category": "apple"}):
        assert api.get("/api/v1/products/", params).status_code in {200, 400}
    assert api.get(f"/api/v1/products/{pid}/similar/", {"category": text}).status_code in {200, 400}
    assert api.get(f"/api/v1/products/{pid}/similar/", {"min_score": text}).status_code == 400
    liked = api.post("/api/v1/search/", {"liked": str(pid), "category": text}, format="multipart")
    assert liked.status_code == 400 or liked.json()["results"] == []
    listing = client.get(reverse("catalog:product-list"), {"q": text, "category": text, "page": text})
    assert listing.status_code == 200 and not listing.context["page"].object_list
    assert client.get(f"/products/{quote(text, safe='')}/").status_code == 404
    search_page = client.post(reverse("search:photo-search"), {"photo": _upload(text.encode()), "k": text})
    assert search_page.status_code == 400
    # Staff writes with the string as a name and description are stored verbatim; as a slug or category, refused.
    created = staff_api.post(
        "/api/v1/products/", {"name": text[:200], "description": text, "price": "1", "category": "kiwi"}
    )
    if "\x00" in text:  # DRF refuses null characters in any text field
        assert created.status_code == 400
    else:
        assert created.status_code == 201 and Product.objects.get(pk=created.json()["id"]).description == text
        Product.objects.filter(
            pk=created.json()["id"]
        ).delete()  # keeps the product count equal for the check
    bad = staff_api.post("/api/v1/products/", {"name": "x", "slug": text, "price": "1", "category": text})
    assert bad.status_code == 400 and {"slug", "category"} <= set(bad.json()["error"]["details"])
