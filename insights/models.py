"""What shoppers searched for and opened. No personal data: an anonymous per-browser-session id only.

Kept small on purpose (docs/benchmarks.md measures a million events): results are packed as bytes, the
query vector is a 256-byte sketch (insights/vectors.py), and per-product counts are rolled up per week
(per day, the counts of a busy shop took more room than the events themselves).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import models


class SearchKind(models.TextChoices):
    PHOTO = "photo", "Search by photo"
    LIKED = "liked", "More like these products"
    SIMILAR = "similar", "Similar-items strip"


class Interface(models.TextChoices):
    PAGE = "page", "Shop page"
    API = "api", "API"


class SearchEvent(models.Model):
    # Made in the web process (insights/events.py: time in the high bits, random low bits), so a page can
    # link its results to the event before the background writer has stored it.
    id = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=8, choices=SearchKind.choices)
    interface = models.CharField(max_length=4, choices=Interface.choices)
    session_id = models.CharField(max_length=16, blank=True)
    model_version = models.CharField(max_length=100, blank=True)
    filters = models.JSONField(null=True, blank=True)
    # The product whose similar-items strip this was (similar), else None.
    # Not indexed: reads by source product go to ProductWeek.
    source_product_id = models.IntegerField(null=True, blank=True)
    top_score = models.FloatField(null=True, blank=True)
    result_count = models.PositiveSmallIntegerField(default=0)
    # int32 product ids then float16 scores of the shown results, best first (rank = position + 1).
    results = models.BinaryField(default=b"")
    # int8 sketch of the query vector (photo and liked searches); None for strips.
    query_sketch = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class SearchThumbnail(models.Model):
    """The shopper's photo, small, only when LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS > 0; deleted when expired."""

    event = models.OneToOneField(SearchEvent, on_delete=models.CASCADE, primary_key=True)
    jpeg = models.BinaryField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"Thumbnail of search #{self.event_id}"


class ResultClick(models.Model):
    event = models.ForeignKey(SearchEvent, on_delete=models.CASCADE, related_name="clicks")
    product_id = models.IntegerField()
    rank = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "product_id"], name="click_once_per_result")]

    def __str__(self) -> str:
        return f"Product {self.product_id} at rank {self.rank} of search #{self.event_id}"


class ProductWeek(models.Model):
    """Per week (starting Monday), how often a product was shown and opened, by kind of search and (strips) by
    source product. source_product_id is 0 for searches, so the unique key has no NULL in it."""

    week = models.DateField()
    product_id = models.IntegerField()
    kind = models.CharField(max_length=8, choices=SearchKind.choices)
    source_product_id = models.IntegerField(default=0)
    shown = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    # Sum over showings of 1 / rank: how visible the product was (insights/events.py, insights/boost.py).
    exposure = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            # Source first: the click boost reads one strip's rows (source, kind, recent weeks) by this key.
            models.UniqueConstraint(
                fields=["source_product_id", "kind", "week", "product_id"], name="product_week_key"
            )
        ]
        indexes = [models.Index(fields=["product_id", "week"], name="product_week_product")]

    def __str__(self) -> str:
        return f"Product {self.product_id} in the week of {self.week} ({self.kind})"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
