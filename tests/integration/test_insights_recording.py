"""Every search path records an event, through the real pages, real weights, real photos and the real Neo4j."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse

from catalog.models import Product
from insights import events
from insights.models import ResultClick, SearchEvent, SearchKind, SearchThumbnail
from insights.packing import results_unpack

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PINEAPPLE = "iconic-images-and-descriptions/Fruit/Pineapple/Pineapple_Iconic.jpg"


def _photo(grocery_dir) -> SimpleUploadedFile:
    path = grocery_dir / PINEAPPLE
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def test_a_photo_search_on_the_page_is_recorded_and_its_result_links_count_clicks(
    client, demo_catalog, grocery_dir
):
    response = client.post(reverse("search:photo-search"), {"photo": _photo(grocery_dir), "k": 5})
    assert response.status_code == 200
    event = SearchEvent.objects.get()
    assert event.kind == SearchKind.PHOTO and event.interface == "page"
    assert event.model_version == "efficientnet_lite0"  # the served model (search/serving.py)
    assert [p for p, _ in results_unpack(event.results)] == [
        m.product.pk for m in response.context["results"]
    ]
    assert event.top_score == pytest.approx(response.context["results"][0].score, abs=1e-3)
    assert event.top_score >= 0.6 and len(bytes(event.query_sketch)) == 256
    assert not SearchThumbnail.objects.exists()  # the photo is not kept by default
    assert event.session_id == client.cookies["lookalike_sid"].value

    # The second result's card links through the click counter to the product.
    html = response.content.decode()
    links = re.findall(r'class="card" href="(/open/[0-9/]+)"', html)
    assert len(links) == 5
    second = response.context["results"][1].product
    opened = client.get(links[1])
    assert opened.status_code == 302 and opened["Location"] == second.get_absolute_url()
    client.get(links[1])  # opened again: counted once
    click = ResultClick.objects.get()
    assert (click.event_id, click.product_id, click.rank) == (event.pk, second.pk, 2)


def test_more_like_this_and_the_similar_items_strip_are_recorded(client, demo_catalog):
    granny = Product.objects.get(name="Granny Smith")
    liked = client.get(reverse("search:photo-search"), {"liked": granny.pk})
    assert liked.status_code == 200 and liked.context["results"]
    page = client.get(granny.get_absolute_url())
    assert page.status_code == 200 and page.context["similar"]
    liked_event, strip_event = SearchEvent.objects.order_by("created_at")
    assert liked_event.kind == SearchKind.LIKED and liked_event.filters == {"liked": [granny.pk]}
    assert strip_event.kind == SearchKind.SIMILAR and strip_event.source_product_id == granny.pk
    assert [p for p, _ in results_unpack(strip_event.results)] == [
        m.product.pk for m in page.context["similar"]
    ]
    assert f"/open/{strip_event.pk}/1/" in page.content.decode()


def test_api_photo_and_liked_searches_are_recorded_without_a_cookie(client, demo_catalog, grocery_dir):
    photo = client.post("/api/v1/search/", {"image": _photo(grocery_dir), "k": 4, "in_stock": "true"})
    assert photo.status_code == 200
    results = [r["product"]["id"] for r in photo.json()["results"]]
    event = SearchEvent.objects.get(pk=int(photo["Search-Id"]))
    assert event.kind == SearchKind.PHOTO and event.interface == "api" and event.session_id == ""
    assert event.model_version == "efficientnet_lite0" and event.filters == {"in_stock": True}
    assert [p for p, _ in results_unpack(event.results)] == results and event.result_count == 4
    assert event.top_score == pytest.approx(photo.json()["results"][0]["score"], abs=1e-3)
    assert len(bytes(event.query_sketch)) == 256
    assert "lookalike_sid" not in photo.cookies and not SearchThumbnail.objects.exists()

    granny = Product.objects.get(name="Granny Smith")
    liked = client.post("/api/v1/search/", {"liked": str(granny.pk), "k": 4})
    assert liked.status_code == 200
    liked_event = SearchEvent.objects.get(pk=int(liked["Search-Id"]))
    assert liked_event.kind == SearchKind.LIKED and liked_event.interface == "api"
    assert liked_event.filters == {"liked": [granny.pk]}
    assert [p for p, _ in results_unpack(liked_event.results)] == [
        r["product"]["id"] for r in liked.json()["results"]
    ]
    assert SearchEvent.objects.count() == 2


def test_nothing_is_recorded_when_turned_off(client, demo_catalog, grocery_dir, settings):
    settings.LOOKALIKE_INSIGHTS_ENABLED = False
    granny = Product.objects.get(name="Granny Smith")
    response = client.post(reverse("search:photo-search"), {"photo": _photo(grocery_dir), "k": 3})
    assert response.status_code == 200 and "/open/" not in response.content.decode()
    liked = client.get(reverse("search:photo-search"), {"liked": granny.pk})
    assert liked.status_code == 200 and liked.context["results"]
    strip = client.get(granny.get_absolute_url())
    assert strip.status_code == 200 and strip.context["similar"] and "/open/" not in strip.content.decode()
    api = [
        client.post("/api/v1/search/", {"image": _photo(grocery_dir), "k": 3}),
        client.post("/api/v1/search/", {"liked": str(granny.pk), "k": 3}),
        client.get(f"/api/v1/products/{granny.pk}/similar/"),
    ]
    assert [r.status_code for r in api] == [200, 200, 200] and all(r.json() for r in api)
    assert not any(r.has_header("Search-Id") for r in api)
    assert not SearchEvent.objects.exists() and "lookalike_sid" not in client.cookies


def test_the_shoppers_photo_is_kept_small_only_when_enabled(client, demo_catalog, grocery_dir, settings):
    settings.LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS = 14
    client.post(reverse("search:photo-search"), {"photo": _photo(grocery_dir), "k": 3})
    thumbnail = SearchThumbnail.objects.get()
    assert len(thumbnail.jpeg) < 10_000


def test_searches_still_answer_when_the_event_store_fails(client, demo_catalog, grocery_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(events, "events_write", broken)
    monkeypatch.setattr("insights.writer.events_write", broken)
    response = client.post(reverse("search:photo-search"), {"photo": _photo(grocery_dir), "k": 3})
    assert response.status_code == 200 and response.context["results"][0].product.name == "Pineapple"
    granny = Product.objects.get(name="Granny Smith")
    assert client.get(granny.get_absolute_url()).context["similar"]
    assert not SearchEvent.objects.exists()
