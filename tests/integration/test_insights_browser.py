# ruff: noqa: F811  (the browser fixtures are imported from test_browser and used as parameters)
"""The insights admin views in a real browser (Debian's Chromium through Playwright), on an empty and on a
full log; a shopper's real search and click in the browser show up in them. Screenshots in var/screenshots/."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import Page, expect

from catalog.models import Product
from insights.models import ResultClick, SearchEvent, SearchKind
from insights.services import click_record, search_event_record
from insights.thresholds import good_match_score
from search.graph import graph_store
from search.similarity import MatchList, ProductMatch
from tests.insights.conftest import shopper_request
from tests.integration.test_browser import (  # noqa: F401  (fixtures)
    ICONIC,
    SCREENSHOTS,
    browser,
    catalog_snapshot,
    page,
    shop,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _staff_login(page: Page, url: str) -> None:
    get_user_model().objects.create_superuser("staff", "staff@example.com", "browser-test-password")
    page.goto(url + reverse("admin:index"))
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("browser-test-password")
    page.get_by_role("button", name="Log in").click()


def _log_fill(count: int = 300) -> None:
    """Searches near real catalog vectors (a few far from anything sold) and clicks falling off with rank."""
    rng, pick = np.random.default_rng(0), random.Random(0)
    products = list(Product.objects.order_by("pk"))
    store = graph_store()
    for i in range(count):
        anchor = products[i % len(products)]
        vector = np.mean(store.image_vectors(anchor.pk, model="efficientnet_lite0"), axis=0)
        unmet = i % 5 == 0  # every fifth: something the shop does not sell
        scores = np.sort(rng.uniform(0.25, 0.5, 12) if unmet else rng.uniform(0.5, 0.95, 12))[::-1]
        shown = pick.sample(products, 12)
        sid = f"{i:016x}"
        event_id = search_event_record(
            request=shopper_request(sid),
            interface="page",
            photo=object(),
            matches=MatchList(
                [ProductMatch(p, float(s)) for p, s in zip(shown, scores, strict=True)],
                model="efficientnet_lite0",
                query_vector=vector + (rng.standard_normal(len(vector)) * 0.02 if unmet else 0),
            ),
        )
        for rank, product in enumerate(shown, 1):
            if pick.random() < 0.5 * 0.7 ** (rank - 1):
                click_record(
                    event_id=event_id, product_id=product.pk, rank=rank, session_id=sid, rate_key=sid
                )


def test_insights_admin_on_an_empty_and_a_full_log(shop, page: Page, grocery_dir: Path):
    _staff_login(page, shop.url)
    overview = shop.url + reverse("admin:insights_searchevent_changelist")
    page.goto(overview)
    expect(page.locator("#insights-overview")).to_contain_text("No searches recorded")
    page.screenshot(path=SCREENSHOTS / "insights-empty.png", full_page=True)
    page.goto(shop.url + reverse("admin:insights_demand"))
    expect(page.locator("#insights-demand")).to_contain_text("No low-score photo searches")

    # A shopper searches by photo in the browser and opens the second result.
    page.goto(shop.url + reverse("search:photo-search"))
    page.locator("input[type=file]").set_input_files(grocery_dir / ICONIC / "Pineapple/Pineapple_Iconic.jpg")
    page.get_by_role("button", name="Find similar products").click()
    second = page.locator("#results .card").nth(1)
    name = second.locator(".name").inner_text()
    second.click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    click = ResultClick.objects.get()
    assert click.rank == 2 and Product.objects.get(pk=click.product_id).name == name

    _log_fill()
    page.goto(overview)
    chart = page.locator("#ctr-by-rank svg").first
    expect(chart.locator("rect")).to_have_count(12)
    expect(page.locator("#per-day")).to_be_visible()
    chart_box = page.locator("#ctr-by-rank")
    chart_box.screenshot(path=SCREENSHOTS / "insights-ctr-by-rank.png")
    page.screenshot(path=SCREENSHOTS / "insights-overview.png", full_page=True)
    heights = [
        float(h) for h in chart.locator("rect").evaluate_all("rs => rs.map(r => r.getAttribute('height'))")
    ]
    assert heights[0] > heights[5] > 0  # clicks fall off with rank, drawn as bars

    page.goto(shop.url + reverse("admin:insights_demand"))
    clusters = page.locator(".demand-cluster")
    expect(clusters.first).to_be_visible()
    sizes = [int(t.split()[0]) for t in clusters.locator("h2").all_inner_texts()]
    # Every low-score photo search is in a cluster: the log's 60 unmet ones, and the browser's own search
    # (or a filled one) when its top score falls under the served version's measured threshold.
    low = [
        e
        for e in SearchEvent.objects.filter(kind=SearchKind.PHOTO)
        if e.top_score is None or e.top_score < good_match_score(e.model_version)
    ]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == len(low) >= 60
    page.screenshot(path=SCREENSHOTS / "insights-demand.png", full_page=True)

    page.goto(overview)
    page.locator("#top-products a").first.click()
    expect(page.locator("#insights-product")).to_contain_text("Shown")
    page.screenshot(path=SCREENSHOTS / "insights-product.png", full_page=True)
