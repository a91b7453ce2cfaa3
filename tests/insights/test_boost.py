"""The click-feedback boost on similar-items strips (the replay in benchmarks/click_boost_replay.py)."""

from __future__ import annotations

import pytest

from insights import boost
from insights.models import Interface
from insights.services import click_record, search_event_record
from search.graph.base import Neighbour
from search.similarity import product_similar_list
from tests.insights.conftest import matches_of, shopper_request

pytestmark = pytest.mark.django_db


def _strip_shown(source, shown, *, clicked=None, times=1):
    """`times` showings of source's strip; the shopper opens `clicked` (a product of the strip) each time."""
    for _ in range(times):
        request = shopper_request("0123456789abcdef")
        event_id = search_event_record(
            request=request,
            interface=Interface.PAGE,
            matches=matches_of(shown, [0.9 - 0.01 * i for i in range(len(shown))]),
            source_product_id=source.pk,
        )
        if clicked is not None:
            rank = shown.index(clicked) + 1
            assert click_record(
                event_id=event_id,
                product_id=clicked.pk,
                rank=rank,
                session_id="0123456789abcdef",
                rate_key=str(event_id),
            )


def test_new_and_unseen_products_get_no_boost_either_way():
    assert boost.boost_for(opened=0, exposure=0.0, baseline_rate=0.2) == 0.0
    # Clicked more than its visibility explains: up; shown often, never opened: down, both bounded.
    assert 0 < boost.boost_for(opened=30, exposure=40.0, baseline_rate=0.2) <= boost.MAX_BOOST
    assert -boost.MAX_BOOST <= boost.boost_for(opened=0, exposure=200.0, baseline_rate=0.2) < 0


def test_the_product_shoppers_open_moves_up_in_that_strip(products):
    source, a, b, c, new = products[:5]
    _strip_shown(source, [a, b, c], clicked=c, times=20)  # shoppers pass over a and b for c
    _strip_shown(products[5], [a, b, c], clicked=a, times=5)  # another strip: its clicks do not count here
    plain = [Neighbour(a.pk, 0.80), Neighbour(new.pk, 0.79), Neighbour(b.pk, 0.78), Neighbour(c.pk, 0.76)]
    reranked = [n.product_id for n in boost.similar_rerank(source_product_id=source.pk, neighbours=plain)]
    assert reranked[0] == c.pk
    # The new product was never shown: it keeps its similarity, and now passes a and b, shown and passed over.
    assert reranked.index(new.pk) <= 1 and reranked.index(new.pk) < reranked.index(b.pk)
    # Only the order changes, never the scores shown.
    assert {n.score for n in boost.similar_rerank(source_product_id=source.pk, neighbours=plain)} == {
        n.score for n in plain
    }


def test_off_by_default_until_enough_clicks_exist(products, settings, memory_graph):
    settings.LOOKALIKE_CLICK_BOOST_MIN_CLICKS = 15
    source, a, b, c = products[:4]
    _strip_shown(source, [a, b, c], clicked=c, times=14)
    assert settings.LOOKALIKE_CLICK_BOOST == "auto" and not boost.click_boost_active()
    from django.core.cache import cache

    cache.clear()  # the boost caches its counts for a minute
    _strip_shown(source, [a, b, c], clicked=c, times=1)
    assert boost.click_boost_active()
    settings.LOOKALIKE_CLICK_BOOST = "off"
    assert not boost.click_boost_active()


def test_the_strip_is_reranked_by_clicks_once_active(products, settings, memory_graph):
    from search.graph.base import ProductRecord

    source, a, b, c = products[:4]
    memory_graph.upsert_products(
        [ProductRecord(p.pk, p.name, p.slug, "Fruit", "fruit", 1.0, True) for p in (source, a, b, c)]
    )
    memory_graph.similar_replace(
        source.pk,
        [Neighbour(a.pk, 0.80), Neighbour(b.pk, 0.79), Neighbour(c.pk, 0.78)],
        model="efficientnet_lite0",
    )
    settings.LOOKALIKE_CLICK_BOOST = "on"
    plain = [m.product.pk for m in product_similar_list(product_id=source.pk)]
    assert plain == [a.pk, b.pk, c.pk]  # no clicks yet: the plain order
    _strip_shown(source, [a, b, c], clicked=c, times=20)
    from django.core.cache import cache

    cache.clear()
    boosted = [m.product.pk for m in product_similar_list(product_id=source.pk)]
    assert boosted[0] == c.pk and sorted(boosted) == sorted(plain)
    assert [m.product.pk for m in product_similar_list(product_id=source.pk, offset=1, limit=2)] == boosted[
        1:
    ]
