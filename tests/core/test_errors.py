"""One error-to-status mapping: the API's JSON and the photo search page answer the same status."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.api.errors import api_exception_handler
from core.errors import ServiceError
from core.images import InvalidImage, UploadTooLarge
from search import views
from search.graph import GraphMisconfigured, GraphUnavailable
from search.similarity import InvalidQuery


@pytest.mark.parametrize(
    "exc, status, code",
    [
        (InvalidImage("Not a readable image."), 400, "invalid_image"),
        (UploadTooLarge("The file is too large."), 413, "upload_too_large"),
        (InvalidQuery("No such product."), 400, "invalid_query"),
        (GraphUnavailable("bolt://x refused"), 503, "search_unavailable"),
        (GraphMisconfigured("wrong NEO4J_PASSWORD"), 500, "search_misconfigured"),
    ],
)
@pytest.mark.django_db
def test_api_and_page_answer_each_error_alike(client, monkeypatch, exc, status, code):
    response = api_exception_handler(exc, {})
    assert response is not None and response.status_code == status
    assert response.data["error"]["code"] == code

    def fail(**kwargs):
        raise exc

    monkeypatch.setattr(views, "search_by_image", fail)
    page = client.get(reverse("search:photo-search"), {"liked": "1"})
    assert page.status_code == status


def test_internal_details_stay_out_of_the_message():
    response = api_exception_handler(GraphUnavailable("bolt://10.0.0.5:7687 refused"), {})
    assert response is not None and "bolt" not in response.data["error"]["message"]
    assert response["Retry-After"] == str(GraphUnavailable.retry_after_s)
    assert issubclass(GraphUnavailable, ServiceError)


def test_a_misconfiguration_is_no_outage_clients_should_retry():
    response = api_exception_handler(GraphMisconfigured("wrong NEO4J_PASSWORD"), {})
    assert response is not None and "Retry-After" not in response
    assert "NEO4J" not in response.data["error"]["message"]
