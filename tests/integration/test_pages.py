from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Product
from tests.conftest import jpeg_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_product_list_filters_by_category_and_name(client, demo_catalog):
    response = client.get(reverse("catalog:product-list"), {"category": "apple", "q": "granny"})
    assert response.status_code == 200
    assert [p.name for p in response.context["page"]] == ["Granny Smith"]


def test_product_page_shows_its_similar_items_best_first(client, demo_catalog):
    product = Product.objects.get(name="Granny Smith")
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    similar = response.context["similar"]
    assert similar and [m.score for m in similar] == sorted((m.score for m in similar), reverse=True)
    assert similar[0].product.name.encode() in response.content


def test_unknown_product_is_a_404(client, demo_catalog):
    assert client.get(reverse("catalog:product-detail", kwargs={"slug": "no-such-thing"})).status_code == 404


def test_photo_search_page_shows_the_right_product_first(client, demo_catalog, grocery_dir):
    path = grocery_dir / "iconic-images-and-descriptions/Fruit/Pineapple/Pineapple_Iconic.jpg"
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")
    response = client.post(reverse("search:photo-search"), {"photo": upload, "k": 5})
    assert response.status_code == 200
    results = response.context["results"]
    assert len(results) == 5 and results[0].product.name == "Pineapple"


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.4 not an image", "Not a readable image"),
    (jpeg_bytes()[:150], "Not a readable image"),
])
def test_photo_search_rejects_bad_uploads_clearly(client, demo_catalog, data, message):
    upload = SimpleUploadedFile("upload.jpg", data, content_type="image/jpeg")
    response = client.post(reverse("search:photo-search"), {"photo": upload})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_photo_search_rejects_files_over_the_byte_limit(client, demo_catalog, settings):
    settings.LOOKALIKE_MAX_UPLOAD_BYTES = 1000
    upload = SimpleUploadedFile("big.jpg", jpeg_bytes(size=(400, 400), quality=100), content_type="image/jpeg")
    response = client.post(reverse("search:photo-search"), {"photo": upload})
    assert response.status_code == 400
    assert "the limit is 1,000 bytes" in response.content.decode()
