"""Writes: record a search (never raising), record a click on one of its results."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from insights.events import SearchRecord, event_id_new, product_weeks_add, search_kind
from insights.middleware import session_id_issue, session_id_known
from insights.models import ResultClick, SearchEvent, SearchKind, week_start
from insights.packing import results_unpack
from insights.writer import record_submit
from search.graph.base import ProductFilter

logger = logging.getLogger("lookalike.insights")


def _filters(
    where: ProductFilter, liked_ids: Sequence[int], disliked_ids: Sequence[int], cropped: bool
) -> dict:
    filters = {
        "category": where.category_slug,
        "min_price": where.min_price,
        "max_price": where.max_price,
        "in_stock": where.in_stock,
        "liked": list(liked_ids) or None,
        "disliked": list(disliked_ids) or None,
        "crop": cropped or None,
    }
    return {name: value for name, value in filters.items() if value is not None}


def _photo_bytes(photo: UploadedFile | None) -> bytes | None:
    if photo is None or settings.LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS <= 0:
        return None  # the shopper's photo is never kept unless staff turned thumbnails on
    photo.seek(0)
    return photo.read()


def search_event_record(
    *,
    request: HttpRequest,
    interface: str,
    matches: Sequence,
    where: ProductFilter = ProductFilter(),
    source_product_id: int | None = None,
    liked_ids: Sequence[int] = (),
    disliked_ids: Sequence[int] = (),
    photo: UploadedFile | None = None,
    cropped: bool = False,
) -> int | None:
    """Record one search or similar-items strip; returns the event id for click links, or None.
    `matches` are ProductMatch objects (search.similarity.MatchList carries the model and query vector).
    Never raises: recording must not fail a search."""
    if not settings.LOOKALIKE_INSIGHTS_ENABLED:
        return None
    try:
        record = SearchRecord(
            id=event_id_new(),
            created_at=timezone.now(),
            kind=search_kind(source_product_id=source_product_id, photo=photo),
            interface=interface,
            # Pages get a session cookie; API responses never set one (apps send it back if they keep it).
            session_id=session_id_issue(request) if interface == "page" else session_id_known(request),
            model_version=getattr(matches, "model", "") or "",
            filters=_filters(where, liked_ids, disliked_ids, cropped),
            source_product_id=source_product_id,
            results=[(m.product.pk, float(m.score)) for m in matches],
            result_count=len(matches),
            query_vector=getattr(matches, "query_vector", None),
            photo=_photo_bytes(photo),
        )
        record_submit(record)
        return record.id
    except Exception:
        logger.exception("A search event could not be recorded")
        return None


def _rate_limited(key: str) -> bool:
    # Fixed one-minute windows in the cache; the key (session id or address) is never stored anywhere else.
    window = f"insights-clicks:{key}:{int(timezone.now().timestamp() // 60)}"
    cache.add(window, 0, timeout=120)
    try:
        return cache.incr(window) > settings.LOOKALIKE_INSIGHTS_CLICKS_PER_MINUTE
    except ValueError:  # expired between add and incr
        return False


def click_record(*, event_id: int, product_id: int, rank: int, session_id: str, rate_key: str) -> bool:
    """Count that a shopper opened the result at `rank` of a recorded search. True if counted; a click on
    an unknown event, a product not at that rank, from another session, a repeat, or over the rate limit
    is ignored (False)."""
    if not settings.LOOKALIKE_INSIGHTS_ENABLED or _rate_limited(rate_key or "anonymous"):
        return False
    event = (
        SearchEvent.objects.filter(pk=event_id)
        .only("id", "kind", "session_id", "source_product_id", "results")
        .first()
    )
    if event is None or (event.session_id and event.session_id != session_id):
        return False
    results = results_unpack(event.results)
    if not 1 <= rank <= len(results) or results[rank - 1][0] != product_id:
        return False
    now = timezone.now()
    try:
        with transaction.atomic():
            _, created = ResultClick.objects.get_or_create(
                event=event, product_id=product_id, defaults={"rank": rank, "created_at": now}
            )
            if created:
                source = event.source_product_id if event.kind == SearchKind.SIMILAR else 0
                key = (week_start(now.date()), product_id, event.kind, source or 0)
                product_weeks_add({key: (1, 0.0)}, column="opened")
    except IntegrityError:  # the same click arriving twice at once
        return False
    return created
