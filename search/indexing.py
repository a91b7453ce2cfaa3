"""Projects the relational catalog into the graph: embed images, upsert nodes, refresh SIMILAR_TO.

Idempotent: running any of these twice gives the same graph. A graph outage leaves images `pending`
(their embeddings kept), to be finished by `manage.py sync_graph`; an undecodable image is `failed`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from catalog.models import Product, ProductImage, SyncStatus
from catalog.services import file_sha256
from core.images import InvalidImage, image_decode
from search.graph import GraphUnavailable, ImageRecord, ProductRecord, graph_store
from search.ingest.decode_ahead import computed_ahead
from search.serving import serving_model
from search.similar_edges import product_similar_refresh
from search.stored_vectors import vector_from_bytes, vector_to_bytes
from search.versions import vectors_project, version_dimensions, versions_indexed

if TYPE_CHECKING:
    import torch

    from search.embeddings import Embedder

logger = logging.getLogger("lookalike.indexing")

SYNC_CHUNK = 32
PRODUCT_SYNC_CHUNK = 500  # property rows only: no vectors, so far larger chunks


@dataclass
class SyncReport:
    synced: int = 0
    failed: dict[int, str] = field(default_factory=dict)
    pending: int = 0
    graph_error: str = ""
    # Where the time went (seconds): reading, decoding and the model; Neo4j node writes; SIMILAR_TO upkeep.
    embed_s: float = 0.0
    write_s: float = 0.0
    similar_s: float = 0.0
    refreshed: int = 0  # products whose SIMILAR_TO lists were refreshed (once per version served or fitted)


def product_record(product: Product) -> ProductRecord:
    return ProductRecord(
        product_id=product.pk,
        name=product.name,
        slug=product.slug,
        category=product.category.name,
        category_slug=product.category.slug,
        price=float(product.price),
        in_stock=product.in_stock,
    )


@dataclass
class _Prepared:
    image: ProductImage
    content_hash: str = ""
    tensor: torch.Tensor | None = None  # the model's input; None: its stored vector is up to date
    error: str = ""


def _prepare(image: ProductImage, *, embedder: Embedder, max_pixels: int, force: bool) -> _Prepared:
    """Read through the storage API (never a local path, so any machine's worker can), hash, decode and
    preprocess (in the decode-ahead thread: the model's thread then only runs the model)."""
    try:
        # The stored file is hashed on every sync, so a file replaced in the admin is re-embedded.
        with image.image.open("rb") as handle:
            current_hash = file_sha256(handle)
            up_to_date = image.embedding_model == embedder.name and image.content_hash == current_hash
            if image.embedding and up_to_date and not force:
                return _Prepared(image, current_hash)
            decoded = image_decode(handle, max_pixels=max_pixels)
        return _Prepared(image, current_hash, embedder.preprocess(decoded))
    except (InvalidImage, OSError) as exc:
        return _Prepared(image, error=str(exc))


def _embed_missing(images: Sequence[ProductImage], *, max_pixels: int, force: bool = False) -> dict[int, str]:
    """Embed images whose stored vector is missing, stale in content or made by another model (or all).
    The next images are read, decoded and preprocessed in a background thread while the model runs."""
    # Here, not at the top: torch loads in the processes that embed, not at every Django start.
    from search.embeddings import DEFAULT_BATCH_SIZE, embedder_active

    embedder = embedder_active()
    failures: dict[int, str] = {}
    queued: list[_Prepared] = []  # in the order their tensors reach the model

    def tensors() -> Iterator[torch.Tensor]:
        prepare = partial(_prepare, embedder=embedder, max_pixels=max_pixels, force=force)
        for prepared in computed_ahead(images, prepare, depth=2 * DEFAULT_BATCH_SIZE):
            if prepared.error:
                failures[prepared.image.pk] = prepared.error
            elif prepared.tensor is not None:
                queued.append(prepared)
                yield prepared.tensor

    embedded = []
    # embed_preprocessed takes a batch from the generator (which appends to `queued`) before yielding it.
    vectors = (vector for batch in embedder.embed_preprocessed(tensors()) for vector in batch)
    for position, vector in enumerate(vectors):
        prepared = queued[position]
        image = prepared.image
        image.embedding = vector_to_bytes(vector)
        image.embedding_model = embedder.name
        image.content_hash = prepared.content_hash
        prepared.tensor = None  # free the pixels
        embedded.append(image)
    _embeddings_store(embedded)
    return failures


def _embeddings_store(images: Sequence[ProductImage]) -> None:
    """One UPDATE per image, sent together (executemany), rather than bulk_update's one UPDATE with a CASE
    per image and field: building those expressions took ~10 ms of CPU per batch of 25 against ~1 ms for
    this, for ~1 ms more on the database's side (docs/benchmarks.md, "Ingestion through the queue")."""
    if not images:
        return
    table = connection.ops.quote_name(ProductImage._meta.db_table)
    sql = f"UPDATE {table} SET embedding = %s, embedding_model = %s, content_hash = %s WHERE id = %s"
    rows: list[Any] = [
        (image.embedding, image.embedding_model, image.content_hash, image.pk) for image in images
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _mark(image_ids: Iterable[int], status: str, error: str = "") -> None:
    ProductImage.objects.filter(pk__in=list(image_ids)).update(
        sync_status=status,
        sync_error=error[:2000],
        synced_at=timezone.now() if status == SyncStatus.SYNCED else None,
    )


def images_sync(
    image_ids: Sequence[int],
    *,
    progress: Callable[[int], None] | None = None,
    refresh_similar: bool = True,
    force_embed: bool = False,
    similar_later: Callable[[set[int], set[int]], set[int]] | None = None,
    similar_also: Iterable[int] = (),
) -> SyncReport:
    """Embed (with the configured backbone) and project the given images, then refresh their products'
    similar items. Images count as synced only once their products' SIMILAR_TO lists are refreshed too,
    unless the caller rebuilds those itself afterwards (`refresh_similar=False`, as `reembed` does), or
    `similar_later(products, image_ids)` names products whose refresh a later sync owes (the worker: more of
    their images are still queued; search/ingest/deferral.py). `similar_also`: products to refresh besides
    those of these images (the worker's skipped images, which an earlier batch may have deferred to).
    """
    report = SyncReport()
    # The served version, and a projection fit being built beside it (search/versions.py). Asking the
    # graph which one is served must not lose the work when Neo4j is down: embed, and leave them pending.
    versions: list[str] = []
    try:
        versions = versions_indexed()
    except GraphUnavailable as exc:
        report.graph_error = str(exc)
    ids = list(image_ids)
    projected: list[ProductImage] = []
    # Products of every image here, failed ones too: an earlier batch may have left their refresh to this one.
    touched: set[int] = set(similar_also)
    for start in range(0, len(ids), SYNC_CHUNK):
        chunk_ids = ids[start : start + SYNC_CHUNK]
        images = list(ProductImage.objects.filter(pk__in=chunk_ids).select_related("product__category"))
        touched.update(image.product_id for image in images)
        started = time.perf_counter()
        failures = _embed_missing(images, max_pixels=settings.LOOKALIKE_MAX_IMAGE_PIXELS, force=force_embed)
        report.embed_s += time.perf_counter() - started
        for image_id, error in failures.items():
            _mark([image_id], SyncStatus.FAILED, error)
        report.failed.update(failures)
        ready = [image for image in images if image.pk not in failures]
        if not report.graph_error:
            started = time.perf_counter()
            try:
                for version in versions:
                    images_project(ready, version=version)
                projected.extend(ready)
                ready = []
            except GraphUnavailable as exc:
                report.graph_error = str(exc)
            report.write_s += time.perf_counter() - started
        _mark_pending(ready, report)
        if progress:
            progress(len(chunk_ids))
    if not report.graph_error and refresh_similar:
        started = time.perf_counter()
        if similar_later is not None:
            touched -= similar_later(touched, set(ids))
        else:
            touched = {image.product_id for image in projected} | set(similar_also)
        try:
            # Once per product, after all its images (and its neighbours' images) are in the index.
            for product_id in sorted(touched):
                for version in versions:
                    product_similar_refresh(product_id=product_id, model=version)
                    report.refreshed += 1
        except GraphUnavailable as exc:
            report.graph_error = str(exc)
        report.similar_s += time.perf_counter() - started
    if report.graph_error and refresh_similar:
        _mark_pending(projected, report)  # their similar items were not refreshed
    else:
        _mark([image.pk for image in projected], SyncStatus.SYNCED)
        report.synced += len(projected)
    return report


def _mark_pending(images: Sequence[ProductImage], report: SyncReport) -> None:
    if images:
        logger.warning("Graph unavailable; %d images stay pending: %s", len(images), report.graph_error)
        _mark([image.pk for image in images], SyncStatus.PENDING, report.graph_error)
        report.pending += len(images)


_schema_ready_for: set[str] = set()


def schema_ensure_once(*, model: str, dimensions: int) -> None:
    """Constraints and the model's vector index exist before this process first writes (cheap afterwards)."""
    if model not in _schema_ready_for:
        graph_store().ensure_schema(model=model, dimensions=dimensions)
        _schema_ready_for.add(model)


def schema_forget(model: str) -> None:
    """After a model's nodes, index and constraint are dropped: ensure them again before its next write."""
    _schema_ready_for.discard(model)


def images_project(images: Sequence[ProductImage], *, version: str, schema_ready: bool = False) -> None:
    """The images' products and image nodes, vectors in `version`'s space, written in one round trip.
    `schema_ready`: the caller made the version's constraints (a version being built, its index later)."""
    if not images:
        return
    if not schema_ready:
        schema_ensure_once(model=version, dimensions=version_dimensions(version))
    products = {image.product_id: image.product for image in images}
    raw = np.stack([vector_from_bytes(image.embedding) for image in images])
    vectors = vectors_project(raw, version=version)
    graph_store().upsert_batch(
        products=[product_record(p) for p in products.values()],
        images=[
            ImageRecord(
                image_id=image.pk,
                product_id=image.product_id,
                path=image.image.name or "",
                embedding=vector.tolist(),
                model=version,
            )
            for image, vector in zip(images, vectors, strict=True)
        ],
    )


def image_sync(*, image_id: int) -> SyncReport:
    if not ProductImage.objects.filter(pk=image_id).exists():
        logger.info("Image %s is gone; nothing to sync", image_id)
        return SyncReport()
    return images_sync([image_id])


def product_sync(*, product_id: int) -> None:
    """Refresh the product node's properties (name, price, ...) after an edit."""
    products_sync(product_ids=[product_id])


def products_sync(*, product_ids: Iterable[int]) -> int:
    """Refresh the graph nodes' properties of these products, in chunks; products without images have
    no place in the graph yet, and rows gone since are skipped."""
    ids = sorted(set(product_ids))
    count = 0
    for start in range(0, len(ids), PRODUCT_SYNC_CHUNK):
        products = Product.objects.select_related("category").filter(
            pk__in=ids[start : start + PRODUCT_SYNC_CHUNK], images__isnull=False
        )
        records = [product_record(p) for p in products.distinct()]
        if records:
            graph_store().upsert_products(records)
        count += len(records)
    return count


def category_sync(*, category_id: int) -> None:
    """After a rename: every product of the category carries its new name and slug in the graph."""
    products_sync(product_ids=Product.objects.filter(category_id=category_id).values_list("pk", flat=True))


def image_unindex(*, image_id: int, product_id: int) -> None:
    store = graph_store()
    store.delete_images([image_id])
    if not Product.objects.filter(pk=product_id).exists():
        return
    for model in _models_in_use():
        for affected in {product_id, *store.similar_sources(product_id)}:
            product_similar_refresh(product_id=affected, model=model, offer_back=False)


def product_unindex(*, product_id: int) -> None:
    store = graph_store()
    sources = store.similar_sources(product_id)
    store.delete_products([product_id])
    for model in _models_in_use():
        for source in sources:
            if source != product_id:
                product_similar_refresh(product_id=source, model=model, offer_back=False)


def _models_in_use() -> list[str]:
    """The versions written to (search/versions.py), and the served one while a `reembed` has yet to switch
    (names only: refreshing similar items reads stored vectors, so no model is loaded)."""
    return sorted({*versions_indexed(), serving_model()})


def orphans_remove() -> tuple[int, int]:
    """Delete graph nodes whose relational rows are gone (e.g. deleted while Neo4j was down)."""
    store = graph_store()
    orphan_products = {p.product_id for p in store.products()} - set(
        Product.objects.values_list("pk", flat=True)
    )
    orphan_images = {i.image_id for i in store.image_shapes()} - set(
        ProductImage.objects.values_list("pk", flat=True)
    )
    if orphan_images:
        store.delete_images(sorted(orphan_images))
    for product_id in sorted(orphan_products):
        product_unindex(product_id=product_id)
    return len(orphan_products), len(orphan_images)
