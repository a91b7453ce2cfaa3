"""Which backbone's vectors the graph serves. Searches embed their query with that model, not simply the
configured one: while `reembed` loads a new backbone beside the old, the old stays served until the switch."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from django.conf import settings

from search.graph import graph_store
from search.versions import version_backbone

if TYPE_CHECKING:
    from search.embeddings import Embedder

logger = logging.getLogger("lookalike.serving")

# A switch is seen by every process within this long; `reembed` keeps the old model's index for twice that.
SERVING_CACHE_S = 5.0
SWITCH_GRACE_S = 2 * SERVING_CACHE_S
_cached: tuple[float, str] | None = None


def serving_model() -> str:
    """The served model, or the configured one on a graph that has none yet."""
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > SERVING_CACHE_S:
        _cached = (now, graph_store().serving_model() or settings.LOOKALIKE_BACKBONE)
    return _cached[1]


def serving_forget() -> None:
    global _cached
    _cached = None


def embedder_for(version: str) -> Embedder:
    """The backbone that makes `version`'s raw vectors (a fit's version names its backbone first)."""
    from search.embeddings import embedder_get  # torch loads with the first query embedded, not at start

    return embedder_get(version_backbone(version), torch_threads=settings.LOOKALIKE_TORCH_THREADS)


def embedder_serving() -> Embedder:
    return embedder_for(serving_model())


def embedder_warm() -> None:
    """Load the configured backbone now (a web process's start: config/wsgi.py). Never raises: a backbone that
    cannot load fails the searches that need it, with its message, as it would without this."""
    from search.embeddings import embedder_active

    try:
        embedder_active()
    except Exception:
        logger.warning("The backbone could not be loaded ahead of the first search", exc_info=True)
