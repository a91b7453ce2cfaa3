"""Expiry of the event log: old events (with their clicks), old weekly counts, thumbnails past their days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from insights.models import ProductWeek, SearchEvent, SearchThumbnail

CHUNK = 5000  # rows per delete, so a large expiry never holds a long lock on the event table


@dataclass(frozen=True)
class Expired:
    events: int
    thumbnails: int
    product_weeks: int


def _delete_in_chunks(queryset) -> int:
    total = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return total
        with transaction.atomic():
            total += queryset.model.objects.filter(pk__in=ids).delete()[1].get(queryset.model._meta.label, 0)


def events_expire(*, retention_days: int) -> Expired:
    now = timezone.now()
    cutoff = now - timedelta(days=retention_days)
    thumbnails = _delete_in_chunks(SearchThumbnail.objects.filter(expires_at__lte=now))
    events = _delete_in_chunks(SearchEvent.objects.filter(created_at__lt=cutoff))
    # A week's counts go once its last day (start + 6) is before the cutoff day.
    weeks = _delete_in_chunks(ProductWeek.objects.filter(week__lt=cutoff.date() - timedelta(days=6)))
    return Expired(events=events, thumbnails=thumbnails, product_weeks=weeks)
