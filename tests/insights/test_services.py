from __future__ import annotations

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from PIL import Image

from insights import events
from insights.models import Interface, ProductWeek, ResultClick, SearchEvent, SearchKind, SearchThumbnail
from insights.packing import results_unpack
from insights.services import click_record, search_event_record
from search.graph.base import ProductFilter
from tests.conftest import jpeg_bytes
from tests.insights.conftest import matches_of, shopper_request

pytestmark = pytest.mark.django_db


def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("me.jpg", jpeg_bytes(size=(800, 600)), content_type="image/jpeg")


def test_a_photo_search_is_recorded_with_its_results_filters_model_and_vector(products):
    vector = np.ones(1280, dtype=np.float32) / np.sqrt(1280)
    request = shopper_request()
    event_id = search_event_record(
        request=request,
        interface=Interface.PAGE,
        matches=matches_of(products[:3], [0.9, 0.8, 0.7], vector=vector),
        where=ProductFilter(category_slug="fruit", in_stock=True),
        photo=_photo(),
        cropped=True,
    )
    event = SearchEvent.objects.get(pk=event_id)
    assert event.kind == SearchKind.PHOTO and event.interface == Interface.PAGE
    assert event.model_version == "efficientnet_lite0"
    assert event.filters == {"category": "fruit", "in_stock": True, "crop": True}
    assert [p for p, _ in results_unpack(event.results)] == [p.pk for p in products[:3]]
    assert event.top_score == pytest.approx(0.9) and event.result_count == 3
    assert len(bytes(event.query_sketch)) == 256
    # An anonymous random id, issued to this browser session as a cookie; nothing else about the shopper.
    assert len(event.session_id) == 16 and request.insights_session.issued
    shown = ProductWeek.objects.filter(kind=SearchKind.PHOTO)
    assert sorted(shown.values_list("product_id", "shown")) == sorted((p.pk, 1) for p in products[:3])


def test_no_photo_is_kept_unless_thumbnails_are_enabled(products, settings):
    settings.LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS = 0
    kw = {"request": shopper_request(), "interface": Interface.PAGE, "photo": _photo()}
    search_event_record(matches=matches_of(products[:1], [0.5]), **kw)
    assert SearchEvent.objects.count() == 1 and SearchThumbnail.objects.count() == 0

    settings.LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS = 7
    event_id = search_event_record(matches=matches_of(products[:1], [0.5]), **kw)
    thumbnail = SearchThumbnail.objects.get(event_id=event_id)
    image = Image.open(__import__("io").BytesIO(bytes(thumbnail.jpeg)))
    assert max(image.size) == events.THUMBNAIL_PX and len(thumbnail.jpeg) < 10_000
    assert (thumbnail.expires_at - SearchEvent.objects.get(pk=event_id).created_at).days == 7


def test_liked_and_strip_events_and_api_sets_no_cookie(products):
    request = shopper_request()
    liked = search_event_record(
        request=request,
        interface=Interface.API,
        matches=matches_of(products[1:3], [0.8, 0.6]),
        liked_ids=[products[0].pk],
        disliked_ids=[products[4].pk],
    )
    strip = search_event_record(
        request=shopper_request(),
        interface=Interface.PAGE,
        matches=matches_of(products[1:4], [0.9, 0.8, 0.3]),
        source_product_id=products[0].pk,
    )
    liked_event, strip_event = SearchEvent.objects.get(pk=liked), SearchEvent.objects.get(pk=strip)
    assert liked_event.kind == SearchKind.LIKED and liked_event.filters == {
        "liked": [products[0].pk],
        "disliked": [products[4].pk],
    }
    assert liked_event.session_id == "" and not request.insights_session.issued
    assert strip_event.kind == SearchKind.SIMILAR and strip_event.source_product_id == products[0].pk
    assert strip_event.query_sketch is None


def test_nothing_is_recorded_when_turned_off(products, settings):
    settings.LOOKALIKE_INSIGHTS_ENABLED = False
    assert (
        search_event_record(
            request=shopper_request(), interface="page", matches=matches_of(products[:2], [1, 1])
        )
        is None
    )
    assert SearchEvent.objects.count() == 0 and ProductWeek.objects.count() == 0


def test_a_failing_event_store_never_raises(products, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(events.SearchEvent.objects, "bulk_create", broken)
    event_id = search_event_record(
        request=shopper_request(), interface="page", matches=matches_of(products[:2], [0.9, 0.8])
    )
    assert event_id is not None  # links still work; the click is ignored since the event is missing
    assert (
        SearchEvent.objects.count() == 0 and ProductWeek.objects.count() == 0
    )  # the batch rolled back whole


def _search(products, session="a1b2c3d4e5f60718"):
    return search_event_record(
        request=shopper_request(session),
        interface=Interface.PAGE,
        matches=matches_of(products[:3], [0.9, 0.8, 0.7]),
    )


def test_a_click_counts_once_for_the_result_shown_at_that_rank(products):
    event_id = _search(products)
    click = {"event_id": event_id, "session_id": "a1b2c3d4e5f60718", "rate_key": "a1b2c3d4e5f60718"}
    assert click_record(product_id=products[1].pk, rank=2, **click)
    assert not click_record(product_id=products[1].pk, rank=2, **click)  # repeat
    assert ResultClick.objects.get().rank == 2
    opened = ProductWeek.objects.get(product_id=products[1].pk, kind=SearchKind.LIKED)
    assert (opened.shown, opened.opened) == (1, 1)


@pytest.mark.parametrize(
    "change",
    [
        {"event_id": 123456789},  # unknown search
        {"product_id": 999_999},  # unknown product
        {"rank": 1},  # a product that was not at that rank
        {"rank": 40},  # past the results
        {"session_id": "ffffffffffffffff"},  # another browser's search
    ],
)
def test_tampered_clicks_are_ignored(products, change):
    event_id = _search(products)
    click = {
        "event_id": event_id,
        "product_id": products[1].pk,
        "rank": 2,
        "session_id": "a1b2c3d4e5f60718",
        "rate_key": "k",
    } | change
    assert not click_record(**click)
    assert ResultClick.objects.count() == 0 and not ProductWeek.objects.filter(opened__gt=0).exists()


def test_clicks_are_rate_limited_per_session(products, settings):
    settings.LOOKALIKE_INSIGHTS_CLICKS_PER_MINUTE = 3
    counted = []
    for _ in range(5):
        event_id = _search(products)
        counted.append(
            click_record(
                event_id=event_id,
                product_id=products[0].pk,
                rank=1,
                session_id="a1b2c3d4e5f60718",
                rate_key="a1b2c3d4e5f60718",
            )
        )
    assert counted == [True, True, True, False, False]
    event_id = _search(products)  # another key still counts
    assert click_record(
        event_id=event_id, product_id=products[0].pk, rank=1, session_id="a1b2c3d4e5f60718", rate_key="other"
    )


def test_event_ids_sort_by_time_and_do_not_collide():
    ids = [events.event_id_new() for _ in range(5000)]  # many per millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids[-1] >> 22 >= ids[0] >> 22 and max(ids) < 2**63
