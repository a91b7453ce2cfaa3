"""A filter's estimated share of the catalog, from the graph store's catalog shape kept in memory.

The shape costs one pass over the products (0.5 s at 83k products, docs/benchmarks.md), so a search never
waits for it but the first in a process: once it is older than CATALOG_SHAPE_MAX_AGE_S, one background
thread reads a new one while searches go on with the old (an estimate: a shape minutes old sizes a search a
little off, and never changes what passes the filter).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from core.filters import ProductFilter
from search.graph.base import GraphStore
from search.graph.catalog_shape import CatalogShape

logger = logging.getLogger("lookalike.search")

CATALOG_SHAPE_MAX_AGE_S = 300.0

_kept: weakref.WeakKeyDictionary[GraphStore, tuple[float, CatalogShape]] = weakref.WeakKeyDictionary()
_image_counts: weakref.WeakKeyDictionary[GraphStore, dict[str, tuple[float, int]]] = (
    weakref.WeakKeyDictionary()
)
_refreshing = threading.Lock()  # one refresh at a time per process


def _refresh(store: GraphStore) -> None:
    try:
        _kept[store] = (time.monotonic(), store.catalog_shape())
    except Exception:  # the old shape serves on; the next search past the age tries again
        logger.warning("Catalog shape refresh failed", exc_info=True)
    finally:
        _refreshing.release()


def catalog_shape_kept(store: GraphStore) -> CatalogShape:
    kept = _kept.get(store)
    if kept is None:
        shape = store.catalog_shape()
        _kept[store] = (time.monotonic(), shape)
        return shape
    if time.monotonic() - kept[0] > CATALOG_SHAPE_MAX_AGE_S and _refreshing.acquire(blocking=False):
        threading.Thread(target=_refresh, args=(store,), name="catalog-shape", daemon=True).start()
    return kept[1]


def catalog_shape_forget() -> None:
    """Drop the kept shapes and image counts (after a bulk load, or in tests that rebuild the catalog)."""
    _kept.clear()
    _image_counts.clear()


def filter_share(store: GraphStore, where: ProductFilter) -> float:
    """The share of the catalog passing the filter's category, price and stock (1.0 without them)."""
    return catalog_shape_kept(store).share(where) if where.has_product_properties else 1.0


def model_images_kept(store: GraphStore, model: str) -> int:
    # A constant-time count in Neo4j (label statistics), so read again in turn once as old as a shape may be.
    counts = _image_counts.setdefault(store, {})
    kept = counts.get(model)
    if kept is None or time.monotonic() - kept[0] > CATALOG_SHAPE_MAX_AGE_S:
        kept = counts[model] = (time.monotonic(), store.model_image_count(model))
    return kept[1]


def filter_images(store: GraphStore, where: ProductFilter, *, model: str) -> float:
    """The estimated number of `model`'s images passing the filter's category, price and stock: its share
    of the catalog's products times the model's images (products are taken to have alike image counts)."""
    return filter_share(store, where) * model_images_kept(store, model)
