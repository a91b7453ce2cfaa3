"""The similarity graph, behind a small interface chosen in settings (LOOKALIKE_GRAPH_STORE)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from search.graph.base import (
    GraphMisconfigured,
    GraphStore,
    GraphUnavailable,
    ImageHit,
    ImageRecord,
    Neighbour,
    ProductRecord,
)

__all__ = [
    "GraphMisconfigured",
    "GraphStore",
    "GraphUnavailable",
    "ImageHit",
    "ImageRecord",
    "Neighbour",
    "ProductRecord",
    "graph_store",
]


@lru_cache(maxsize=1)
def graph_store() -> GraphStore:
    return import_string(settings.LOOKALIKE_GRAPH_STORE).from_settings(settings)
