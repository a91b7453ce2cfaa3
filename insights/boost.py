"""Clicks improve similar-items strips: products shoppers open from A's strip more often than their place
in it explains move up in A's strip; products nobody has seen yet keep the place their similarity earns.

For each product B in A's strip: clicks per exposure (exposure = sum of 1 / rank over its showings, the
position-bias model of insights/events.py), smoothed towards the average of all strips with PRIOR_EXPOSURE
pseudo-showings, as a lift over that average. The score gains WEIGHT * log(lift), clamped to +-MAX_BOOST.
A new product (no showings) has lift 1: no boost either way, so it is never starved; one shown often and
never opened sinks a little, at most MAX_BOOST. Constants chosen with benchmarks/click_boost_replay.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from insights.models import ProductWeek, SearchKind, week_start
from search.graph.base import Neighbour

WEIGHT = 0.05
MAX_BOOST = 0.08
PRIOR_EXPOSURE = 3.0
WINDOW_DAYS = 30
CACHE_S = 60


def _strip_rows(**filters: object):
    # The weeks overlapping the window (counts are kept per week).
    since = week_start((timezone.now() - timedelta(days=WINDOW_DAYS)).date())
    return ProductWeek.objects.filter(kind=SearchKind.SIMILAR, week__gte=since, **filters)


def _baseline() -> tuple[int, float]:
    """Strip clicks in the window, and clicks per exposure over all strips."""

    def compute() -> tuple[int, float]:
        totals = _strip_rows().aggregate(opened=Sum("opened"), exposure=Sum("exposure"))
        opened, exposure = totals["opened"] or 0, totals["exposure"] or 0.0
        return opened, (opened / exposure if exposure else 0.0)

    return cast(tuple[int, float], cache.get_or_set("insights-boost-baseline", compute, CACHE_S))


def click_boost_active() -> bool:
    mode = settings.LOOKALIKE_CLICK_BOOST
    if mode == "off" or not settings.LOOKALIKE_INSIGHTS_ENABLED:
        return False
    clicks, rate = _baseline()
    if mode == "on":
        return rate > 0
    return clicks >= settings.LOOKALIKE_CLICK_BOOST_MIN_CLICKS and rate > 0


def _strip_counts(source_product_id: int) -> dict[int, tuple[int, float]]:
    def compute() -> dict[int, tuple[int, float]]:
        rows = (
            _strip_rows(source_product_id=source_product_id)
            .values("product_id")
            .annotate(opened=Sum("opened"), exposure=Sum("exposure"))
        )
        return {r["product_id"]: (r["opened"], r["exposure"]) for r in rows}

    return cast(
        dict[int, tuple[int, float]],
        cache.get_or_set(f"insights-boost-strip:{source_product_id}", compute, CACHE_S),
    )


def boost_for(*, opened: int, exposure: float, baseline_rate: float) -> float:
    if exposure <= 0:
        return 0.0  # never shown in this strip: no evidence either way
    rate = (opened + PRIOR_EXPOSURE * baseline_rate) / (exposure + PRIOR_EXPOSURE)
    lift = rate / baseline_rate
    return max(-MAX_BOOST, min(MAX_BOOST, WEIGHT * math.log(max(lift, 1e-9))))


def similar_rerank(*, source_product_id: int, neighbours: Sequence[Neighbour]) -> list[Neighbour]:
    """`neighbours` (best first by similarity) re-ordered by similarity plus click boost; scores unchanged."""
    _, baseline_rate = _baseline()
    if baseline_rate <= 0:
        return list(neighbours)
    counts = _strip_counts(source_product_id)

    def boosted(n: Neighbour) -> float:
        opened, exposure = counts.get(n.product_id, (0, 0.0))
        return n.score + boost_for(opened=opened, exposure=exposure, baseline_rate=baseline_rate)

    return sorted(neighbours, key=lambda n: (-boosted(n), -n.score, n.product_id))
