"""Compares the relational catalog (the source of truth) with its projection in the graph, and repairs drift.

Drift comes from outages (a delete that never reached Neo4j), crashes mid-sync, a backbone change, or
hands in the Neo4j browser. Images whose file cannot be decoded (`failed`) are reported, not counted as
drift: re-syncing them cannot help until someone replaces the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.models import Product, ProductImage, SyncStatus
from search.backbones import Backbone
from search.graph import graph_store
from search.graph.base import SimilarEdge
from search.indexing import (
    images_sync,
    orphans_remove,
    product_record,
    products_sync,
    schema_ensure_once,
    schema_forget,
)
from search.similar_edges import product_similar_refresh
from search.versions import versions_indexed

Progress = Callable[[int], None]


@dataclass
class Drift:
    missing_images: set[int] = field(default_factory=set)  # in the DB, not in the graph or not marked synced
    misplaced_images: set[int] = field(default_factory=set)  # in the graph under another product, or none
    missing_products: set[int] = field(default_factory=set)  # have images in the DB, no node in the graph
    # name, category, price, ... differ from the DB's, on the product node or (category, price, stock, where
    # the vector index filters) on its image nodes: filtered searches would miss or wrongly show them
    stale_products: set[int] = field(default_factory=set)
    orphan_products: set[int] = field(default_factory=set)  # in the graph, gone from the DB
    orphan_images: set[int] = field(default_factory=set)
    stale_model_images: set[int] = field(default_factory=set)  # with a node of another backbone
    wrong_dimension_images: set[int] = field(default_factory=set)
    dangling_edges: set[SimilarEdge] = field(default_factory=set)  # to/from missing products, or self-loops
    failed_images: set[int] = field(default_factory=set)  # undecodable files: reported, not drift

    def counts(self) -> dict[str, int]:
        return {name: len(value) for name, value in vars(self).items()}

    @property
    def total(self) -> int:
        return sum(count for name, count in self.counts().items() if name != "failed_images")

    def images_to_resync(self) -> set[int]:
        return self.missing_images | self.misplaced_images | self.wrong_dimension_images


def graph_drift_find(*, backbone: Backbone) -> Drift:
    """Everything in which the graph disagrees with the catalog; raises GraphUnavailable."""
    store = graph_store()
    db_images = dict(ProductImage.objects.values_list("pk", "product_id"))
    statuses = dict(ProductImage.objects.values_list("pk", "sync_status"))
    db_products = set(Product.objects.values_list("pk", flat=True))
    failed = {pk for pk, status in statuses.items() if status == SyncStatus.FAILED}
    products_with_images = {product_id for pk, product_id in db_images.items() if pk not in failed}

    # Each backbone has its own image nodes: the configured one's must match the catalog; any other
    # backbone's are stale (left by a reembed that did not finish, or not yet run).
    all_shapes = store.image_shapes()
    shapes = {shape.image_id: shape for shape in all_shapes if shape.model == backbone.name}
    graph_records = {record.product_id: record for record in store.products()}
    graph_products = set(graph_records)
    drift = Drift(failed_images=failed)
    kept = {backbone.name, *versions_indexed()}  # and a projection fit being built beside it
    drift.stale_model_images = {shape.image_id for shape in all_shapes if shape.model not in kept}
    drift.missing_images = {
        pk
        for pk, status in statuses.items()
        if pk not in failed and (pk not in shapes or status != SyncStatus.SYNCED)
    }
    drift.orphan_images = {shape.image_id for shape in all_shapes} - set(db_images)
    drift.orphan_products = graph_products - db_products
    drift.missing_products = products_with_images - graph_products
    for image_id, shape in shapes.items():
        if image_id not in db_images or image_id in failed:
            continue
        if shape.product_id != db_images[image_id]:
            drift.misplaced_images.add(image_id)
        if shape.dimensions != backbone.dimensions:
            drift.wrong_dimension_images.add(image_id)
    catalog_records = [
        product_record(p)
        for p in Product.objects.select_related("category").filter(
            pk__in=products_with_images & graph_products
        )
    ]
    drift.stale_products = {
        record.product_id for record in catalog_records if record != graph_records[record.product_id]
    } | store.products_with_stale_filters(catalog_records)
    drift.dangling_edges = {
        edge
        for edge in store.similar_edges()
        if edge.source_id == edge.target_id
        or edge.source_id not in products_with_images
        or edge.target_id not in products_with_images
    }
    return drift


def graph_drift_fix(*, drift: Drift, backbone: Backbone, progress: Progress | None = None) -> None:
    """Repair what `graph_drift_find` found, through the same indexing code as every other write."""
    schema_ensure_once(model=backbone.name, dimensions=backbone.dimensions)
    store = graph_store()
    if drift.orphan_images or drift.orphan_products:
        orphans_remove()
    if drift.stale_model_images:
        _stale_models_drop(backbone=backbone)
    if drift.dangling_edges:
        store.similar_delete(sorted(drift.dangling_edges, key=lambda e: (e.source_id, e.target_id)))
    if drift.stale_products:
        products_sync(product_ids=drift.stale_products)
    if drift.images_to_resync():
        images_sync(sorted(drift.images_to_resync()), progress=progress)
    # Products that lost an edge get a fresh list; re-synced products were refreshed by images_sync.
    existing = set(Product.objects.filter(images__isnull=False).values_list("pk", flat=True))
    for product_id in sorted({edge.source_id for edge in drift.dangling_edges} & existing):
        product_similar_refresh(product_id=product_id, model=backbone.name, offer_back=False)
        if progress:
            progress(1)


def _stale_models_drop(*, backbone: Backbone) -> None:
    """Other backbones' nodes go, except the served one's: switching backbones is `reembed`'s work, with its
    progress and report, never a side effect of a check (the command says to run it)."""
    store = graph_store()
    for model in sorted(store.image_models() - {backbone.name, store.serving_model(), *versions_indexed()}):
        store.model_drop(model)
        schema_forget(model)


def serving_mismatch(*, backbone: Backbone) -> str:
    """A reason the served model is not the configured one, or ""."""
    served = graph_store().serving_model()
    if served and served != backbone.name:
        return f"The graph serves {served} but the configured backbone is {backbone.name}: run `manage.py reembed`."
    return ""
