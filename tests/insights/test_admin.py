"""The staff views on an empty and on a full log (unit level: the in-memory graph, Django's test client)."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from insights.models import Interface, SearchEvent
from insights.selectors import clicks_by_rank, demand_unmet, searches_per_day
from insights.services import click_record, search_event_record
from tests.insights.conftest import matches_of, shopper_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "s@example.com", "pw-for-tests-only")
    client.force_login(user)
    return client


def _log(products, settings) -> None:
    """Two kinds of photos nobody finds a match for (two directions), good matches, strips and clicks."""
    rng = np.random.default_rng(3)
    low = settings.LOOKALIKE_INSIGHTS_GOOD_MATCH_SCORE - 0.2
    directions = rng.standard_normal((2, 1280))
    for i in range(30):
        vector = directions[0 if i < 20 else 1] + rng.standard_normal(1280) * 0.3
        nearest = products[:3] if i < 20 else products[3:6]
        search_event_record(
            request=shopper_request(),
            interface=Interface.PAGE,
            photo=object(),
            matches=matches_of(nearest, [low, low - 0.05, low - 0.1], vector=vector / np.linalg.norm(vector)),
        )
    for i in range(10):
        event_id = search_event_record(
            request=shopper_request("00000000000000bb"),
            interface=Interface.API,
            matches=matches_of(products[:4], [0.95, 0.9, 0.8, 0.7], vector=directions[0]),
            photo=object(),
        )
        if i < 6:
            click_record(
                event_id=event_id,
                product_id=products[0].pk,
                rank=1,
                session_id="00000000000000bb",
                rate_key=str(i),
            )
        if i < 2:
            click_record(
                event_id=event_id,
                product_id=products[2].pk,
                rank=3,
                session_id="00000000000000bb",
                rate_key=str(i),
            )
    for _ in range(5):
        search_event_record(
            request=shopper_request(),
            interface=Interface.PAGE,
            matches=matches_of(products[1:4], [0.9, 0.8, 0.7]),
            source_product_id=products[0].pk,
        )


def test_selectors_count_what_was_recorded(products, settings):
    _log(products, settings)
    (today,) = searches_per_day()
    assert (today.searches, today.good, today.strips) == (40, 10, 5)
    ranks = clicks_by_rank(kinds=("photo", "liked"), ranks=4)
    assert [(r.shown, r.clicks) for r in ranks] == [(40, 6), (40, 0), (40, 2), (10, 0)]
    demand = demand_unmet()
    assert [c.size for c in demand.clusters][:2] == [20, 10] or sum(c.size for c in demand.clusters) == 30
    biggest = demand.clusters[0]
    assert [p.pk for p, _ in biggest.nearest][:3] == [p.pk for p in products[:3]]


def test_admin_views_render_on_an_empty_log(staff, products):
    overview = staff.get(reverse("admin:insights_searchevent_changelist"))
    assert overview.status_code == 200 and b"No searches recorded" in overview.content
    assert b"<svg" in overview.content
    assert b"No low-score photo searches" in staff.get(reverse("admin:insights_demand")).content
    product = staff.get(reverse("admin:insights_product", args=[products[0].pk]))
    assert product.status_code == 200 and b"No clicks yet" in product.content


def test_admin_views_render_on_a_full_log(staff, products, settings):
    _log(products, settings)
    overview = staff.get(reverse("admin:insights_searchevent_changelist")).content.decode()
    assert "40 searches" in overview and "<strong>25%</strong>" in overview
    assert 'aria-label="Click-through by rank, searches"' in overview and "15.0%" in overview
    demand = staff.get(reverse("admin:insights_demand")).content.decode()
    assert "20 searches" in demand and products[0].name in demand
    product = staff.get(reverse("admin:insights_product", args=[products[2].pk])).content.decode()
    assert "opened 2 times" in product and "Search by photo (API)" in product


def test_shopper_photos_are_for_staff_only_and_only_while_kept(client, staff, products, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import jpeg_bytes

    settings.LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS = 3
    event_id = search_event_record(
        request=shopper_request(),
        interface=Interface.PAGE,
        matches=matches_of(products[:1], [0.2]),
        photo=SimpleUploadedFile("x.jpg", jpeg_bytes()),
    )
    url = reverse("admin:insights_thumbnail", args=[event_id])
    assert staff.get(url)["Content-Type"] == "image/jpeg"
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    assert SearchEvent.objects.count() == 1


def test_a_good_match_is_judged_by_the_threshold_of_the_version_that_served_it(
    products, settings, monkeypatch
):
    settings.LOOKALIKE_INSIGHTS_GOOD_MATCH_SCORE = 0.6
    settings.LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE = 0.3
    # Fit 7 is a projection (its cosines run lower than the raw backbone's).
    monkeypatch.setattr("insights.thresholds.version_projection", lambda version: object())
    vector = np.ones(1280) / np.sqrt(1280)
    for model, score in (
        ("efficientnet_lite0", 0.45),
        ("efficientnet_lite0__p7", 0.45),
        ("efficientnet_lite0__p7", 0.2),
    ):
        search_event_record(
            request=shopper_request(),
            interface=Interface.PAGE,
            photo=object(),
            matches=matches_of(products[:1], [score], model=model, vector=vector),
        )
    (today,) = searches_per_day()
    assert (today.searches, today.good) == (3, 1)  # 0.45 is good under the projection only
    demand = demand_unmet()
    assert (demand.model_version, demand.low_score_searches, demand.other_versions) == (
        "efficientnet_lite0__p7",
        1,
        1,
    )
