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
    try:
        stats, error = graph_store().stats(), ""
    except GraphUnavailable as exc:
        logger.warning("Admin health check: %s", exc)
        stats, error = None, str(exc)
    return GraphHealth(
        up=stats is not None,
        stats=stats,
        error=error,
        pending_images=ProductImage.objects.filter(sync_status=SyncStatus.PENDING).count(),
        failed_images=ProductImage.objects.filter(sync_status=SyncStatus.FAILED).count(),
    )
