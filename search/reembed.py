"""Switching backbones without serving mixed vectors.

`backbone_reembed` embeds every image with the configured backbone into that model's own nodes and vector
index, beside the served model's, rebuilds SIMILAR_TO for the new model, then switches the served model in
one write and drops the old one. Searches keep reading the old model until the switch, and its query
embedder with them (search/serving.py). Interrupted, it resumes: embeddings are kept per image in the
database, and images already synced with the new model are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from catalog.models import ProductImage, SyncStatus
from search.embeddings import embedder_active
from search.graph import graph_store
from search.indexing import images_sync, schema_ensure_once, schema_forget
from search.models import FitStatus, ProjectionFit
from search.serving import SWITCH_GRACE_S, serving_forget
from search.similar_edges import similar_rebuild_stored
from search.versions import version_backbone, version_dimensions, version_fit_id

# Images saved while a pass runs are picked up by the next; after this many the switch goes ahead and
# later saves are synced with the new model anyway (it is the configured one).
CATCH_UP_PASSES = 3

ProgressFactory = Callable[[int, str, str], AbstractContextManager[Callable[[int], None]]]


@dataclass
class ReembedReport:
    model: str
    previous_model: str | None
    embedded: int = 0
    products_linked: int = 0
    failed: dict[int, str] = field(default_factory=dict)
    graph_error: str = ""

    @property
    def switched(self) -> bool:
        return not self.graph_error and self.previous_model != self.model


def _images_to_embed(model: str, *, skip: set[int]) -> list[int]:
    """Images not yet in the model's index; those that failed in this run are not retried in it."""
    todo = ProductImage.objects.exclude(embedding_model=model, sync_status=SyncStatus.SYNCED).exclude(
        pk__in=skip
    )
    return list(todo.order_by("pk").values_list("pk", flat=True))


def backbone_reembed(*, everything: bool = False, progress: ProgressFactory) -> ReembedReport:
    """Re-embed with the configured backbone and serve it. `everything` re-embeds images already done."""
    embedder = embedder_active()
    store = graph_store()
    served = store.serving_model()
    # Re-embedding with the served backbone keeps its projection fit; a new backbone starts unprojected
    # (its raw vectors are a new space: run fit_projection after the switch).
    target = served if served and version_backbone(served) == embedder.name else embedder.name
    schema_ensure_once(model=target, dimensions=version_dimensions(target))
    report = ReembedReport(model=target, previous_model=served)
    for attempt in range(CATCH_UP_PASSES):
        forced = everything and attempt == 0
        if forced:
            ids = list(ProductImage.objects.order_by("pk").values_list("pk", flat=True))
        else:
            ids = _images_to_embed(embedder.name, skip=set(report.failed))
        if not ids:
            break
        with progress(len(ids), f"Embedding with {embedder.name}", "img") as update:
            sync = images_sync(ids, progress=update, refresh_similar=False, force_embed=forced)
        report.embedded += sync.synced
        report.failed.update(sync.failed)
        if sync.graph_error:
            report.graph_error = sync.graph_error
            return report
    if report.previous_model != target:
        with progress(1, f"Building the {target} vector index", "index") as update:
            store.vector_index_rebuild(model=target, dimensions=version_dimensions(target))
            update(1)
    rows = list(
        ProductImage.objects.filter(embedding_model=embedder.name, sync_status=SyncStatus.SYNCED).values_list(
            "product_id", "embedding"
        )
    )
    with progress(len({product for product, _ in rows}), "Similar items", "product") as update:
        report.products_linked = similar_rebuild_stored(rows=rows, model=target, progress=update)
    if report.previous_model != target:
        store.serving_switch(target)
        served_fits = ProjectionFit.objects.filter(status=FitStatus.SERVED)
        target_fit = version_fit_id(target)
        if target_fit is not None:
            served_fits = served_fits.exclude(pk=target_fit)
        served_fits.update(status=FitStatus.RETIRED)
        serving_forget()
        time.sleep(SWITCH_GRACE_S)  # other processes may still search the old index until their cache expires
    # Every model but the served one goes, including one left by a run interrupted after its switch.
    for model in sorted(store.image_models() - {target}):
        store.model_drop(model)
        schema_forget(model)
    return report
