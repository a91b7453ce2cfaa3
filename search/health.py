"""How the graph projection is doing, for the admin index page: must answer even when Neo4j is down."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from catalog.models import ProductImage, SyncStatus
from search.graph import GraphUnavailable, graph_store
from search.graph.base import GraphStats

logger = logging.getLogger("lookalike.health")


@dataclass(frozen=True)
class GraphHealth:
    up: bool
    stats: GraphStats | None
    error: str
    pending_images: int
    failed_images: int


def graph_health() -> GraphHealth:
    counts = {status: 0 for status in SyncStatus.values}
    for status in (SyncStatus.PENDING, SyncStatus.FAILED):
        counts[status] = ProductImage.objects.filter(sync_status=status).count()
    try:
        stats, error = graph_store().stats(), ""
    except GraphUnavailable as exc:
        logger.warning("Admin health check: %s", exc)
        stats, error = None, str(exc)
    return GraphHealth(
        up=stats is not None, stats=stats, error=error,
        pending_images=counts[SyncStatus.PENDING], failed_images=counts[SyncStatus.FAILED],
    )
