"""The API records similar-items lists and tells apps the search id; apps report clicks."""

from __future__ import annotations

import pytest

from insights.models import ResultClick, SearchEvent, SearchKind
from search.graph.base import Neighbour, ProductRecord

pytestmark = pytest.mark.django_db


def _source_with_two_similar(products, memory_graph):
    """(source, a, b): the source product's similar items are a, then b."""
    source, a, b = products[:3]
    memory_graph.upsert_products(
        [ProductRecord(p.pk, p.name, p.slug, "Fruit", "fruit", 1.0, True) for p in (source, a, b)]
    )
    memory_graph.similar_replace(
        source.pk, [Neighbour(a.pk, 0.8), Neighbour(b.pk, 0.7)], model="efficientnet_lite0"
    )
    return source, a, b


def test_api_strips_are_recorded_and_apps_report_clicks(client, products, memory_graph):
    source, a, b = _source_with_two_similar(products, memory_graph)
    response = client.get(f"/api/v1/products/{source.pk}/similar/")
    assert response.status_code == 200 and [m["product"]["id"] for m in response.json()] == [a.pk, b.pk]
    event = SearchEvent.objects.get(pk=int(response["Search-Id"]))
    assert event.kind == SearchKind.SIMILAR and event.interface == "api" and event.session_id == ""
    assert "lookalike_sid" not in response.cookies  # the API sets no cookie

    clicks = "/api/v1/clicks/"
    click = {"search_id": event.pk, "product": b.pk, "rank": 2}
    assert client.post(clicks, click, content_type="application/json").json() == {"recorded": True}
    assert client.post(clicks, click, content_type="application/json").json() == {"recorded": False}
    unknown = {"search_id": 12345, "product": b.pk, "rank": 2}
    assert client.post(clicks, unknown, content_type="application/json").status_code == 202
    assert client.post(clicks, {"search_id": "x"}, content_type="application/json").status_code == 400
    assert ResultClick.objects.get().rank == 2


def test_api_v2_records_only_the_page_shown(client, products, memory_graph):
    # v2 fetches one row more than the page to know whether a next page exists; that row was not shown.
    source, a, b = _source_with_two_similar(products, memory_graph)
    response = client.get(f"/api/v2/products/{source.pk}/similar/?limit=1")
    assert response.status_code == 200 and response.json()["next"] is not None
    assert [m["product"]["id"] for m in response.json()["results"]] == [a.pk]
    event = SearchEvent.objects.get(pk=int(response["Search-Id"]))
    assert event.result_count == 1
    click = {"search_id": event.pk, "product": a.pk, "rank": 1}
    assert client.post("/api/v2/clicks/", click, content_type="application/json").json() == {"recorded": True}
