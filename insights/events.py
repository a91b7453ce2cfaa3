"""Recording searches: what the request hands over (`SearchRecord`), and writing a batch of them."""

from __future__ import annotations

import io
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from PIL import Image, ImageOps

from insights.models import ProductWeek, SearchEvent, SearchKind, SearchThumbnail, week_start
from insights.packing import results_pack
from insights.vectors import vector_sketch

# At most this many results of a search are kept (the page shows 12 by default, the API up to 48).
RESULTS_KEPT = 24
THUMBNAIL_PX = 128
_RANDOM_BITS = 22


_last_id = 0
_last_id_lock = threading.Lock()


def event_id_new() -> int:
    """Milliseconds since the epoch in the high bits (ids sort by time), 22 random bits below: unique
    across processes without asking the database, and not guessable from a neighbouring id. Within a process
    each id is above the last: random bits alone collide about once in 200 ids drawn in one millisecond."""
    global _last_id
    drawn = (time.time_ns() // 1_000_000) << _RANDOM_BITS | secrets.randbits(_RANDOM_BITS)
    with _last_id_lock:
        if drawn <= _last_id:
            drawn = _last_id + 1 + secrets.randbits(_RANDOM_BITS // 2)
        _last_id = drawn
    return drawn


@dataclass
class SearchRecord:
    id: int
    created_at: datetime
    kind: str
    interface: str
    session_id: str
    model_version: str
    filters: dict | None
    source_product_id: int | None
    results: list[tuple[int, float]]
    result_count: int
    query_vector: np.ndarray | None = None
    photo: bytes | None = field(default=None, repr=False)


def thumbnail_jpeg(photo: bytes) -> bytes:
    with Image.open(io.BytesIO(photo)) as image:
        image.draft("RGB", (THUMBNAIL_PX * 2, THUMBNAIL_PX * 2))  # decode JPEGs at reduced scale
        small = ImageOps.exif_transpose(image).convert("RGB")
        small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=70)
        return buffer.getvalue()


def _event_row(record: SearchRecord) -> SearchEvent:
    top = record.results[0][1] if record.results else None
    return SearchEvent(
        id=record.id,
        created_at=record.created_at,
        kind=record.kind,
        interface=record.interface,
        session_id=record.session_id,
        model_version=record.model_version[:100],
        filters=record.filters or None,
        source_product_id=record.source_product_id,
        top_score=top,
        result_count=min(record.result_count, 32767),
        results=results_pack(record.results[:RESULTS_KEPT]),
        query_sketch=vector_sketch(record.query_vector) if record.query_vector is not None else None,
    )


def _thumbnail_rows(records: Sequence[SearchRecord]) -> list[SearchThumbnail]:
    days = settings.LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS
    if days <= 0:
        return []
    return [
        SearchThumbnail(
            event_id=r.id, jpeg=thumbnail_jpeg(r.photo), expires_at=r.created_at + timedelta(days=days)
        )
        for r in records
        if r.photo
    ]


def product_weeks_add(counts: Mapping[tuple[date, int, str, int], tuple[int, float]], *, column: str) -> None:
    """Add to ProductWeek counters in one statement per batch (the same SQL on SQLite and PostgreSQL).
    `counts` maps (week start, product id, kind, source product id or 0) to (shown or opened, exposure)."""
    if not counts:
        return
    table = ProductWeek._meta.db_table
    assert column in {"shown", "opened"}
    other = "opened" if column == "shown" else "shown"
    sql = (
        f"INSERT INTO {table} (week, product_id, kind, source_product_id, {column}, {other}, exposure) "
        "VALUES (%s, %s, %s, %s, %s, 0, %s) "
        "ON CONFLICT (source_product_id, kind, week, product_id) DO UPDATE SET "
        f"{column} = {table}.{column} + excluded.{column}, exposure = {table}.exposure + excluded.exposure"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*key, n, exposure) for key, (n, exposure) in counts.items()])


def _shown_counts(records: Sequence[SearchRecord]) -> dict[tuple[date, int, str, int], tuple[int, float]]:
    counts: dict[tuple[date, int, str, int], tuple[int, float]] = {}
    for r in records:
        source = r.source_product_id or 0
        for rank, (product_id, _) in enumerate(r.results[:RESULTS_KEPT], start=1):
            key = (week_start(r.created_at.date()), product_id, r.kind, source)
            shown, exposure = counts.get(key, (0, 0.0))
            # Exposure: how likely a shopper looked at that rank at all (1 / rank, the usual position-bias
            # model), so a product is judged by its clicks against how visible it was (insights/boost.py).
            counts[key] = (shown + 1, exposure + 1.0 / rank)
    return counts


@transaction.atomic
def events_write(records: Sequence[SearchRecord]) -> None:
    SearchEvent.objects.bulk_create([_event_row(r) for r in records], ignore_conflicts=True)
    SearchThumbnail.objects.bulk_create(_thumbnail_rows(records), ignore_conflicts=True)
    product_weeks_add(_shown_counts(records), column="shown")


def search_kind(*, source_product_id: int | None, photo: object | None) -> str:
    if source_product_id is not None:
        return SearchKind.SIMILAR
    return SearchKind.PHOTO if photo is not None else SearchKind.LIKED
