from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.models import Product
from tests.conftest import jpeg_bytes

pytestmark = [pytest.mark.integration, pytest.mark.also_sqlite, pytest.mark.django_db]


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


@pytest.mark.parametrize(
    "data, message",
    [
        (b"%PDF-1.4 not an image", "Not a readable image"),
        (jpeg_bytes()[:150], "Not a readable image"),
    ],
)
def test_photo_search_rejects_bad_uploads_clearly(client, demo_catalog, data, message):
    upload = SimpleUploadedFile("upload.jpg", data, content_type="image/jpeg")
    response = client.post(reverse("search:photo-search"), {"photo": upload})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_photo_search_rejects_files_over_the_byte_limit(client, demo_catalog, settings):
    settings.LOOKALIKE_MAX_UPLOAD_BYTES = 1000
    upload = SimpleUploadedFile(
        "big.jpg", jpeg_bytes(size=(400, 400), quality=100), content_type="image/jpeg"
    )
    response = client.post(reverse("search:photo-search"), {"photo": upload})
    assert response.status_code == 413
    assert "the limit is 1,000 bytes" in response.content.decode()


def _upload(path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="image/jpeg")


def _side_by_side(left_path, right_path) -> tuple[bytes, int]:
    """Two photos in one JPEG, left and right; returns the bytes and the width of the left one."""
    left, right = Image.open(left_path).convert("RGB"), Image.open(right_path).convert("RGB")
    canvas = Image.new("RGB", (left.width + right.width, max(left.height, right.height)), "white")
    canvas.paste(left, (0, 0))
    canvas.paste(right, (left.width, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    return buffer.getvalue(), left.width


ICONIC = "iconic-images-and-descriptions/Fruit"


def test_product_page_draws_its_neighbourhood_with_links_and_scores(client, demo_catalog):
    product = Product.objects.get(name="Granny Smith")
    response = client.get(product.get_absolute_url())
    page = response.content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert response.context["similar"]
    for match in response.context["similar"]:
        assert f'href="{match.product.get_absolute_url()}"' in svg
        assert f">{match.score:.2f}<" in svg
    assert svg.count('<line class="edge"') == len(response.context["similar"])


def test_pages_show_thumbnails_never_full_size_photos(client, demo_catalog):
    product = Product.objects.get(name="Granny Smith")
    for url in (reverse("catalog:product-list"), product.get_absolute_url()):
        sources = re.findall(r'<img src="([^"]+)"', client.get(url).content.decode())
        assert sources and all("/thumbs/" in src for src in sources), sources


def test_photo_search_form_offers_the_camera_and_loads_its_script(client):
    page = client.get(reverse("search:photo-search")).content.decode()
    assert 'accept="image/*"' in page and "capture=" in page and "photo_search.js" in page
    assert 'name="viewport"' in page


@pytest.mark.parametrize("left_half, expected", [(True, "Pineapple"), (False, "Banana")])
def test_photo_search_looks_only_inside_the_crop_box(client, demo_catalog, grocery_dir, left_half, expected):
    data, left_width = _side_by_side(
        grocery_dir / ICONIC / "Pineapple/Pineapple_Iconic.jpg",
        grocery_dir / ICONIC / "Banana/Banana_Iconic.jpg",
    )
    height = Image.open(io.BytesIO(data)).height
    box = (
        (0, 0, left_width, height)
        if left_half
        else (left_width, 0, Image.open(io.BytesIO(data)).width - left_width, height)
    )
    form = {
        "photo": SimpleUploadedFile("both.jpg", data, content_type="image/jpeg"),
        "k": 3,
        **dict(zip(("crop_x", "crop_y", "crop_w", "crop_h"), box, strict=False)),
    }
    response = client.post(reverse("search:photo-search"), form)
    assert response.status_code == 200
    assert response.context["results"][0].product.name == expected


def test_photo_search_filters_by_category_price_and_stock(client, demo_catalog, grocery_dir):
    apple_prices = sorted(Product.objects.filter(category__slug="apple").values_list("price", flat=True))
    max_price = apple_prices[len(apple_prices) // 2]
    form = {
        "photo": _upload(grocery_dir / ICONIC / "Pineapple/Pineapple_Iconic.jpg"),
        "category": "apple",
        "in_stock": "on",
        "max_price": str(max_price),
        "k": 20,
    }
    response = client.post(reverse("search:photo-search"), form)
    results = response.context["results"]
    expected = set(Product.objects.filter(category__slug="apple", price__lte=max_price, in_stock=True))
    assert results and {m.product for m in results} == expected
    assert len(expected) < len(apple_prices)


def test_more_like_this_is_a_plain_link_that_keeps_the_filters(client, demo_catalog):
    granny = Product.objects.get(name="Granny Smith")
    response = client.get(reverse("search:photo-search"), {"liked": granny.pk, "category": "apple", "k": 4})
    assert response.status_code == 200
    results = response.context["results"]
    assert results and granny not in [m.product for m in results]
    assert {m.product.category.slug for m in results} == {"apple"}
    assert "More like Granny Smith" in response.content.decode()
    assert f"?liked={results[0].product.pk}&amp;category=apple&amp;k=4" in response.content.decode()


def test_less_like_this_moves_away_from_the_disliked_products(client, demo_catalog):
    granny = Product.objects.get(name="Granny Smith")
    liked = client.get(reverse("search:photo-search"), {"liked": granny.pk, "k": 6})
    first = liked.context["results"][0].product
    assert f"?liked={granny.pk}&amp;disliked={first.pk}&amp;k=6" in liked.content.decode()

    response = client.get(
        reverse("search:photo-search"), {"liked": granny.pk, "disliked": str(first.pk), "k": 6}
    )

    assert response.status_code == 200
    products = [m.product for m in response.context["results"]]
    assert first not in products and granny not in products
    assert f"less like {first.name}" in response.content.decode()


def test_bad_disliked_ids_are_a_form_error(client, demo_catalog):
    granny = Product.objects.get(name="Granny Smith")
    response = client.get(reverse("search:photo-search"), {"liked": granny.pk, "disliked": "1,x"})
    assert response.status_code == 400 and "product ids separated by commas" in response.content.decode()


@pytest.mark.parametrize(
    "form, message",
    [
        ({}, "Choose a photo to search with."),
        ({"crop_x": "0", "crop_y": "0"}, "The crop box needs x, y, width and height."),
        ({"min_price": "5", "max_price": "1"}, "The upper price must not be below the lower one."),
    ],
)
def test_photo_search_form_errors_are_explained(client, demo_catalog, grocery_dir, form, message):
    if form:
        form["photo"] = _upload(grocery_dir / ICONIC / "Pineapple/Pineapple_Iconic.jpg")
    response = client.post(reverse("search:photo-search"), form)
    assert response.status_code == 400 and message in response.content.decode()


def test_photo_search_is_a_friendly_503_while_the_graph_is_down(
    client, demo_catalog, grocery_dir, monkeypatch
):
    from search import similarity
    from search.graph import GraphUnavailable

    def down(*args, **kwargs):
        raise GraphUnavailable("simulated")

    monkeypatch.setattr(similarity, "products_nearest", down)
    response = client.post(
        reverse("search:photo-search"), {"photo": _upload(grocery_dir / ICONIC / "Kiwi/Kiwi_Iconic.jpg")}
    )
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()
