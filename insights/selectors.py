"""Reads for the staff views: searches per day, click-through by rank, unmet demand, per-product counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Product
from catalog.selectors import products_by_ids_in_order
from insights.clusters import cluster_count, kmeans_cosine
from insights.models import ProductWeek, ResultClick, SearchEvent, SearchKind, SearchThumbnail, week_start
from insights.packing import results_unpack
from insights.thresholds import good_match_q
from insights.vectors import sketches_unit

SEARCH_KINDS = (SearchKind.PHOTO, SearchKind.LIKED)
DEMAND_EVENTS_MAX = 5000  # the most recent low-score searches clustered


def _since(days: int):
    return timezone.now() - timedelta(days=days)


def _weeks_since(days: int) -> date:
    """Per-product counts are kept per week: the weeks overlapping the last `days` days."""
    return week_start(_since(days).date())


@dataclass(frozen=True)
class Day:
    day: date
    searches: int  # by photo or liked products
    good: int  # of those, top score at least the good-match threshold
    strips: int

    @property
    def good_share(self) -> float | None:
        return self.good / self.searches if self.searches else None


def _versions(events) -> list[str]:
    return list(events.order_by().values_list("model_version", flat=True).distinct())


def searches_per_day(*, days: int = 30) -> list[Day]:
    recent = SearchEvent.objects.filter(created_at__gte=_since(days))
    good = good_match_q(_versions(recent.filter(kind__in=SEARCH_KINDS)))
    rows = (
        recent.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            searches=Count("id", filter=Q(kind__in=SEARCH_KINDS)),
            good=Count("id", filter=Q(kind__in=SEARCH_KINDS) & good),
            strips=Count("id", filter=Q(kind=SearchKind.SIMILAR)),
        )
        .order_by("day")
    )
    return [Day(r["day"], r["searches"], r["good"], r["strips"]) for r in rows]


@dataclass(frozen=True)
class RankRate:
    rank: int
    shown: int
    clicks: int

    @property
    def rate(self) -> float:
        return self.clicks / self.shown if self.shown else 0.0


def clicks_by_rank(*, days: int = 30, kinds: tuple[str, ...], ranks: int = 12) -> list[RankRate]:
    """Of the searches that showed a result at each rank, the share whose result there was opened."""
    events = SearchEvent.objects.filter(created_at__gte=_since(days), kind__in=kinds)
    shown = events.aggregate(
        **{f"r{r}": Count("id", filter=Q(result_count__gte=r)) for r in range(1, ranks + 1)}
    )
    clicks = dict(
        ResultClick.objects.filter(event__in=events, rank__lte=ranks)
        .values_list("rank")
        .annotate(n=Count("id"))
        .values_list("rank", "n")
    )
    return [RankRate(r, shown[f"r{r}"] or 0, clicks.get(r, 0)) for r in range(1, ranks + 1)]


@dataclass
class DemandCluster:
    size: int
    mean_top_score: float
    event_ids: list[int]
    thumbnail_event_ids: list[int] = field(default_factory=list)
    nearest: list[tuple[Product, int]] = field(default_factory=list)  # products its searches landed near


@dataclass
class Demand:
    clusters: list[DemandCluster]
    low_score_searches: int
    model_version: str
    other_versions: int  # low-score searches of other model versions, not comparable, not clustered


def _cluster_nearest(events: list[SearchEvent], limit: int = 4) -> list[tuple[int, int]]:
    counts: Counter[int] = Counter()
    for event in events:
        counts.update(pid for pid, _ in results_unpack(event.results)[:3])
    return counts.most_common(limit)


def demand_unmet(*, days: int = 30, seed: int = 0) -> Demand:
    """Recent photo searches without a good match, clustered by their query vectors, biggest first."""
    searches = SearchEvent.objects.filter(
        created_at__gte=_since(days), kind=SearchKind.PHOTO, query_sketch__isnull=False
    )
    low = searches.exclude(good_match_q(_versions(searches)))
    latest = low.order_by("-created_at").values_list("model_version", flat=True).first()
    if latest is None:
        return Demand([], 0, "", 0)
    events = list(
        low.filter(model_version=latest)
        .order_by("-created_at")
        .only("id", "top_score", "results", "query_sketch")[:DEMAND_EVENTS_MAX]
    )
    vectors = sketches_unit([bytes(e.query_sketch or b"") for e in events])  # never empty: filtered above
    labels = kmeans_cosine(vectors, cluster_count(len(events)), seed=seed)
    groups = [[e for e, label in zip(events, labels, strict=True) if label == c] for c in set(labels)]
    groups.sort(key=len, reverse=True)
    kept = set(
        SearchThumbnail.objects.filter(
            event_id__in=[e.pk for e in events], expires_at__gt=timezone.now()
        ).values_list("event_id", flat=True)
    )
    clusters = []
    for group in groups:
        nearest = _cluster_nearest(group)
        products = {p.pk: p for p in products_by_ids_in_order([pid for pid, _ in nearest])}
        clusters.append(
            DemandCluster(
                size=len(group),
                mean_top_score=sum(e.top_score or 0.0 for e in group) / len(group),
                event_ids=[e.pk for e in group],
                thumbnail_event_ids=[e.pk for e in group if e.pk in kept][:4],
                nearest=[(products[pid], n) for pid, n in nearest if pid in products],
            )
        )
    return Demand(clusters, len(events), latest, low.exclude(model_version=latest).count())


def products_top(*, days: int = 30, limit: int = 20) -> list[tuple[Product, int, int]]:
    rows = list(
        ProductWeek.objects.filter(week__gte=_weeks_since(days))
        .values("product_id")
        .annotate(shown=Sum("shown"), opened=Sum("opened"))
        .order_by("-opened", "-shown", "product_id")[:limit]
    )
    products = {p.pk: p for p in products_by_ids_in_order([r["product_id"] for r in rows])}
    return [(products[r["product_id"]], r["shown"], r["opened"]) for r in rows if r["product_id"] in products]


@dataclass
class ProductInsights:
    shown: int
    opened: int
    by_kind: Sequence[Mapping[str, Any]]  # kind, shown, opened
    by_strip: list[tuple[Product, int, int]]  # whose similar-items strip it was in: product, shown, opened
    recent_clicks: list[ResultClick]
    thumbnail_event_ids: set[int]


def product_insights(*, product_id: int, days: int = 30) -> ProductInsights:
    rows = ProductWeek.objects.filter(product_id=product_id, week__gte=_weeks_since(days))
    totals = rows.aggregate(shown=Sum("shown"), opened=Sum("opened"))
    by_kind = list(rows.values("kind").annotate(shown=Sum("shown"), opened=Sum("opened")).order_by("kind"))
    strips = list(
        rows.filter(kind=SearchKind.SIMILAR)
        .values("source_product_id")
        .annotate(shown=Sum("shown"), opened=Sum("opened"))
        .order_by("-opened", "-shown")[:20]
    )
    sources = {p.pk: p for p in products_by_ids_in_order([r["source_product_id"] for r in strips])}
    clicks = list(
        ResultClick.objects.filter(product_id=product_id, created_at__gte=_since(days))
        .select_related("event")
        .order_by("-created_at")[:20]
    )
    kept = set(
        SearchThumbnail.objects.filter(
            event_id__in=[c.event_id for c in clicks], expires_at__gt=timezone.now()
        ).values_list("event_id", flat=True)
    )
    return ProductInsights(
        shown=totals["shown"] or 0,
        opened=totals["opened"] or 0,
        by_kind=by_kind,
        by_strip=[
            (sources[r["source_product_id"]], r["shown"], r["opened"])
            for r in strips
            if r["source_product_id"] in sources
        ],
        recent_clicks=clicks,
        thumbnail_event_ids=kept,
    )


def thumbnail_jpeg_get(*, event_id: int) -> bytes | None:
    row = SearchThumbnail.objects.filter(event_id=event_id, expires_at__gt=timezone.now()).first()
    return bytes(row.jpeg) if row else None
