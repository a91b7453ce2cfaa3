"""Fitting the catalog projection and serving it without ever serving mixed vectors.

`projection_refit` fits a projection (search/projection.py) on the raw backbone vectors stored in the
database, grouped by product (the CNN never runs), stores it as a new ProjectionFit, then builds its
version beside the served one: every image re-projected into the fit's own graph label and vector index,
its SIMILAR_TO lists, then one write switches searches over and the old version is dropped. Images saved
meanwhile are written to both versions by indexing (search/versions.py `versions_indexed`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django_tasks import task

from catalog.models import ProductImage, SyncStatus
from search.backbones import backbone_get
from search.calibration import (
    good_match_estimate,
    held_out_split,
    similar_min_estimate,
    unrelated_draw,
)
from search.graph import graph_store
from search.head import HeadSettings, head_train
from search.indexing import images_project, schema_forget
from search.models import FitStatus, ProjectionFit, ProjectionTurnedOff
from search.projection import (
    DEFAULT_DIMENSIONS,
    DEFAULT_SHRINKAGE,
    Projection,
    grouping_choose,
    project,
    projection_fit,
)
from search.serving import SWITCH_GRACE_S, serving_forget
from search.similar_edges import similar_rebuild_stored
from search.stored_vectors import vector_from_bytes, vector_to_bytes
from search.versions import (
    fit_threshold_served,
    version_backbone,
    version_fit_id,
    version_threshold,
    versions_forget,
)

ProgressFactory = Callable[[int, str, str], AbstractContextManager[Callable[[int], None]]]
PROJECT_CHUNK = 500
# The trained head on top of the whitening by default: over 6 seeds it kept the whitening's first-result rate
# (-0.002 to +0.003) and raised every similar-items strip by 0.016-0.026, on products the fit never saw too,
# for ~30 s more at 10k images and no CNN (docs/benchmarks.md "Catalog projection"). Views stay an option.
DEFAULT_HEAD = True


class FitRefused(RuntimeError):
    """Fitting now would serve an incomplete catalog."""


@dataclass
class FitReport:
    fit: ProjectionFit | None  # None: the raw backbone is served
    previous_version: str | None
    images: int = 0
    products_linked: int = 0


def projection_load(*, fit_id: int) -> Projection | None:
    fit = ProjectionFit.objects.get(pk=fit_id)
    if fit.matrix is None:
        return None
    dimensions = backbone_get(fit.backbone).dimensions
    return Projection(
        mean=vector_from_bytes(fit.mean).copy(),
        matrix=vector_from_bytes(fit.matrix).reshape(dimensions, fit.dimensions).copy(),
        grouping=fit.grouping,  # type: ignore[arg-type]
        groups=fit.groups,
    )


def images_fittable(backbone: str):
    """The images a fit of this backbone is made on: embedded by it, and not failed."""
    return ProductImage.objects.filter(embedding_model=backbone, embedding__isnull=False).exclude(
        sync_status=SyncStatus.FAILED
    )


def _fitted(
    rows: list[tuple[int, int, bytes]],
    *,
    shrinkage: float,
    dimensions: int | None,
    extra: np.ndarray,
    extra_positions: np.ndarray,
    head: HeadSettings | None,
) -> tuple[Projection | None, bool]:
    """The whitening on the stored vectors plus any augmented views (labelled as their photo), then the
    head, and whether it was trained. The head only trains where the catalog's own photos group by product:
    on one photo per product and its views it lost 6 points of top-5 (docs/benchmarks.md)."""
    products = np.array([p for p, _, _ in rows])
    categories = np.array([c for _, c, _ in rows])
    vectors = np.stack([vector_from_bytes(e) for _, _, e in rows])
    own_grouping, _ = grouping_choose(products.tolist(), categories.tolist())
    vectors = np.concatenate([vectors, extra])
    products = np.concatenate([products, products[extra_positions]])
    categories = np.concatenate([categories, categories[extra_positions]])
    projection = projection_fit(
        vectors,
        products=products.tolist(),
        categories=categories.tolist(),
        shrinkage=shrinkage,
        dimensions=dimensions,
    )
    if projection is None or head is None or own_grouping != "product" or dimensions is not None:
        return projection, False
    return head_train(vectors, products, base=projection, settings=head), True


@dataclass(frozen=True)
class _Calibration:
    good_match_score: float | None
    similar_min_score: float | None
    seconds: float
    good_match_estimated: bool  # the held-out fit was made (its estimate may still be None: too few photos)


Row = tuple[int, int, bytes]  # product, category, stored raw embedding


def _vectors(rows: list[Row]) -> np.ndarray:
    return np.stack([vector_from_bytes(e) for _, _, e in rows])


def _good_match_calibrated(
    held_rows: list[Row],
    kept_rows: list[Row],
    *,
    shrinkage: float,
    dimensions: int | None,
    head: HeadSettings | None,
) -> float | None:
    """The good-match score (search/calibration.py) from a second fit, made as the served one (augmented views
    left out) on the kept photos only, the held-out photos being the searches. Nearly all of the calibration's
    time: ~7 s of a 10k-image head fit (docs/benchmarks.md), hence made only when it will be served."""
    if not held_rows or not kept_rows:
        return None
    dimension = len(vector_from_bytes(kept_rows[0][2]))
    held_fit, _ = _fitted(
        kept_rows,
        shrinkage=shrinkage,
        dimensions=dimensions,
        extra=np.zeros((0, dimension), dtype=np.float32),
        extra_positions=np.zeros(0, dtype=np.int64),
        head=head,
    )
    if held_fit is None:
        return None
    return good_match_estimate(
        project(_vectors(held_rows), held_fit),
        np.array([p for p, _, _ in held_rows]),
        project(_vectors(kept_rows), held_fit),
        np.array([p for p, _, _ in kept_rows]),
    )


def _calibrated(
    rows: list[Row],
    projection: Projection,
    *,
    shrinkage: float,
    dimensions: int | None,
    head: HeadSettings | None,
    good_match: bool = True,
) -> _Calibration:
    """The fit's thresholds: the similar-items minimum on its own projected photos (cheap: 2,000 photos drawn
    and projected), and with `good_match` the good-match score from a held-out fit (`_good_match_calibrated`)."""
    started = time.perf_counter()
    categories = np.array([c for _, c, _ in rows])
    similar = similar_min_estimate(
        _vectors(rows), categories, transform=lambda drawn: project(drawn, projection)
    )
    good = None
    if good_match:
        held, kept = held_out_split([p for p, _, _ in rows])
        good = _good_match_calibrated(
            [rows[i] for i in held],
            [rows[i] for i in kept],
            shrinkage=shrinkage,
            dimensions=dimensions,
            head=head,
        )
    return _Calibration(good, similar, time.perf_counter() - started, good_match)


def _views(image_ids: list[int], views: int, progress: ProgressFactory) -> tuple[np.ndarray, np.ndarray]:
    """Augmented views of the fit's images (CNN), and the row of the fit each belongs to."""
    from search.augment import views_embed, views_prune  # torch and torchvision: only for fits with views

    by_pk = ProductImage.objects.in_bulk(image_ids)
    images = [by_pk[pk] for pk in image_ids if pk in by_pk]  # one deleted meanwhile has no views
    row_of = {pk: row for row, pk in enumerate(image_ids)}
    rows = np.array([row_of[image.pk] for image in images], dtype=np.int64)
    with progress(len(images), f"Augmented views, {views} per image (CNN unless cached)", "img") as update:
        vectors, positions = views_embed(images, views=views, progress=update)
    views_prune(backbone=settings.LOOKALIKE_BACKBONE)
    return vectors, rows[positions]


def projection_fit_create(
    *,
    shrinkage: float = DEFAULT_SHRINKAGE,
    dimensions: int | None = DEFAULT_DIMENSIONS,
    views: int = 0,
    head: bool = DEFAULT_HEAD,
    progress: ProgressFactory | None = None,
    automatic: bool = False,
) -> ProjectionFit:
    """Fit on every embedded image of the configured backbone; stored as `building` (not yet served).
    `views`: augmented views per image, embedded now by the CNN and fitted on with the stored vectors;
    `head`: a head trained on top of the whitening (search/head.py; the default, where the catalog's photos
    group by product and all dimensions are kept). Measured: docs/benchmarks.md, "Catalog projection"."""
    backbone = settings.LOOKALIKE_BACKBONE
    started = time.perf_counter()
    versions_forget()
    listed = list(
        images_fittable(backbone)
        .order_by("pk")
        .values_list("pk", "product_id", "product__category_id", "embedding")
    )
    rows = [(product, category, embedding) for _, product, category, embedding in listed]
    extra = np.zeros((0, backbone_get(backbone).dimensions), dtype=np.float32)
    positions = np.zeros(0, dtype=np.int64)
    views_started = time.perf_counter()
    if views and rows:
        extra, positions = _views([pk for pk, _, _, _ in listed], views, progress or no_progress)
    views_seconds = time.perf_counter() - views_started
    head_settings = HeadSettings() if head else None
    projection, trained = None, False
    if rows:
        projection, trained = _fitted(
            rows,
            shrinkage=shrinkage,
            dimensions=dimensions,
            extra=extra,
            extra_positions=positions,
            head=head_settings,
        )
    calibration = _Calibration(None, None, 0.0, False)
    if projection is not None:
        calibration = _calibrated(
            rows,
            projection,
            shrinkage=shrinkage,
            dimensions=dimensions,
            head=head_settings if trained else None,
            good_match=fit_threshold_served("good_match_score"),
        )
    return ProjectionFit.objects.create(
        backbone=backbone,
        grouping=projection.grouping if projection else "identity",
        shrinkage=shrinkage,
        dimensions=projection.dimensions if projection else backbone_get(backbone).dimensions,
        groups=projection.groups if projection else 0,
        products=len({p for p, _, _ in rows}),
        images=len(rows),
        mean=vector_to_bytes(projection.mean) if projection else None,
        matrix=vector_to_bytes(projection.matrix.ravel()) if projection else None,
        views=views,
        head_epochs=head_settings.epochs if trained and head_settings else 0,
        views_seconds=views_seconds,
        good_match_score=calibration.good_match_score,
        similar_min_score=calibration.similar_min_score,
        calibration_seconds=calibration.seconds,
        good_match_estimated_at=timezone.now() if calibration.good_match_estimated else None,
        fit_seconds=time.perf_counter() - started,
        automatic=automatic,
        last_image_pk=listed[-1][0] if listed else None,
    )


def fit_calibrate(fit: ProjectionFit) -> ProjectionFit:
    """Estimate a projected fit's good match now, as a fit made with it served would have at fit time: the
    held-out fit needs only the fit's settings, and the catalog as it is now (photos since the fit included;
    only the photos the held-out fit draws are read). A fit without a similar-items minimum (older fits)
    gets one too, from the photos it draws. Returns the fit as stored."""
    started = time.perf_counter()
    projection = projection_load(fit_id=fit.pk)
    if projection is None:
        return fit
    images = images_fittable(fit.backbone).order_by("pk")
    listed = list(images.values_list("pk", "product_id", "product__category_id"))
    held, kept = held_out_split([product for _, product, _ in listed])
    drawn = unrelated_draw(len(listed)) if fit.similar_min_score is None else np.zeros(0, dtype=np.int64)
    wanted = {listed[i][0] for i in (*held, *kept, *drawn)}
    embeddings = dict(images.filter(pk__in=wanted).values_list("pk", "embedding"))

    def rows_of(indices: Iterable[int]) -> list[Row]:  # an image deleted meanwhile is left out
        return [
            (listed[i][1], listed[i][2], embeddings[listed[i][0]])
            for i in indices
            if listed[i][0] in embeddings
        ]

    trained_on_all = fit.dimensions == backbone_get(fit.backbone).dimensions
    updates: dict[str, object] = {
        "good_match_score": _good_match_calibrated(
            rows_of(held),
            rows_of(kept),
            shrinkage=fit.shrinkage,
            dimensions=None if trained_on_all else fit.dimensions,
            head=HeadSettings(epochs=fit.head_epochs) if fit.head_epochs else None,
        ),
        "good_match_estimated_at": timezone.now(),
    }
    if fit.similar_min_score is None and (drawn_rows := rows_of(drawn)):
        updates["similar_min_score"] = similar_min_estimate(
            _vectors(drawn_rows),
            [c for _, c, _ in drawn_rows],
            transform=lambda vectors: project(vectors, projection),
        )
    updates["calibration_seconds"] = fit.calibration_seconds + time.perf_counter() - started
    ProjectionFit.objects.filter(pk=fit.pk, good_match_estimated_at__isnull=True).update(**updates)
    versions_forget()
    fit.refresh_from_db()
    return fit


def fit_calibrate_served() -> ProjectionFit | None:
    """The served fit's good match, estimated now if it will be served and the fit never estimated it (fitted
    with LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT off, or before fits calibrated); until then the setting's
    default is served. Scheduled on the workers while the flag is on (LOOKALIKE_WORKER_SCHEDULE)."""
    if not fit_threshold_served("good_match_score"):
        return None
    fit = ProjectionFit.objects.filter(
        status=FitStatus.SERVED, matrix__isnull=False, good_match_estimated_at__isnull=True
    ).first()
    return fit_calibrate(fit) if fit else None


@contextmanager
def no_progress(total: int, description: str, unit: str) -> Iterator[Callable[[int], None]]:
    yield lambda n: None


def _recorded(fit: ProjectionFit, progress: ProgressFactory) -> ProgressFactory:
    """`progress`, also written to the fit's row (at most once a second) for the admin to show."""

    @contextmanager
    def factory(total: int, description: str, unit: str) -> Iterator[Callable[[int], None]]:
        ProjectionFit.objects.filter(pk=fit.pk).update(stage=description, done=0, total=total)
        done, written = 0, time.monotonic()
        with progress(total, description, unit) as update:

            def recorded(n: int) -> None:
                nonlocal done, written
                done += n
                update(n)
                if time.monotonic() - written >= 1.0 or done >= total:
                    ProjectionFit.objects.filter(pk=fit.pk).update(done=done)
                    written = time.monotonic()

            yield recorded

    return factory


def _version_build_and_switch(
    *,
    version: str,
    dimensions: int,
    backbone: str,
    progress: ProgressFactory,
    report: FitReport,
    switch_refused: Callable[[], str | None] = lambda: None,
) -> None:
    store = graph_store()
    # Its vector index is built once, over all its vectors, after they are written (vector_index_rebuild).
    store.ensure_schema(model=version, dimensions=dimensions, vector_index=False)
    ids = list(images_fittable(backbone).order_by("pk").values_list("pk", flat=True))
    with progress(len(ids), f"Projecting into {version}", "img") as update:
        for start in range(0, len(ids), PROJECT_CHUNK):
            chunk = ids[start : start + PROJECT_CHUNK]
            images = list(ProductImage.objects.filter(pk__in=chunk).select_related("product__category"))
            images_project(images, version=version, schema_ready=True)
            report.images += len(images)
            update(len(chunk))
    with progress(1, f"Building the {version} vector index", "index") as update:
        store.vector_index_rebuild(model=version, dimensions=dimensions)
        update(1)
    rows = list(images_fittable(backbone).values_list("product_id", "embedding"))
    with progress(len({product for product, _ in rows}), "Similar items", "product") as update:
        report.products_linked = similar_rebuild_stored(rows=rows, model=version, progress=update)
    if refused := switch_refused():
        raise FitRefused(refused)
    store.serving_switch(version)


def _others_drop(version: str) -> None:
    serving_forget()
    time.sleep(SWITCH_GRACE_S)  # other processes may still search the old version until their cache expires
    store = graph_store()
    for model in sorted(store.image_models() - {version}):
        store.model_drop(model)
        schema_forget(model)


def _turned_off_meanwhile() -> str | None:
    if ProjectionTurnedOff.objects.exists():
        return "staff turned the projection off while the automatic fit was built; not switched"
    return None


def projection_serve(*, fit: ProjectionFit, progress: ProgressFactory) -> FitReport:
    """Build the fit's version beside the served one, switch in one write, drop the old version. An automatic
    fit looks once more just before the switch whether staff turned the projection off meanwhile."""
    report = FitReport(fit=fit, previous_version=graph_store().serving_model())
    _version_build_and_switch(
        version=fit.version,
        dimensions=fit.dimensions,
        backbone=fit.backbone,
        progress=_recorded(fit, progress),
        report=report,
        switch_refused=_turned_off_meanwhile if fit.automatic else lambda: None,
    )
    ProjectionFit.objects.filter(status=FitStatus.SERVED).update(status=FitStatus.RETIRED)
    ProjectionFit.objects.filter(pk=fit.pk).update(
        status=FitStatus.SERVED, served_at=timezone.now(), stage=""
    )
    _others_drop(fit.version)
    return report


def projection_off(*, progress: ProgressFactory) -> FitReport:
    """Serve the configured backbone's raw vectors again (no projection), by the same build-and-switch.
    Staff's choice, recorded first so the workers' automatic fit leaves it be until an explicit fit."""
    ProjectionTurnedOff.record()
    backbone = settings.LOOKALIKE_BACKBONE
    report = FitReport(fit=None, previous_version=graph_store().serving_model())
    if report.previous_version != backbone:
        _version_build_and_switch(
            version=backbone,
            dimensions=backbone_get(backbone).dimensions,
            backbone=backbone,
            progress=progress,
            report=report,
        )
    ProjectionFit.objects.filter(status=FitStatus.SERVED).update(status=FitStatus.RETIRED)
    _others_drop(backbone)
    return report


def projection_refit(
    *,
    progress: ProgressFactory,
    shrinkage: float = DEFAULT_SHRINKAGE,
    dimensions: int | None = DEFAULT_DIMENSIONS,
    views: int = 0,
    head: bool = DEFAULT_HEAD,
    automatic: bool = False,
) -> FitReport:
    """Fit and serve. An explicit fit (`automatic` False: the command, the admin's task) undoes staff's earlier
    `projection_off`: from then on the workers' automatic fit (search/autofit.py) may refit again."""
    served = graph_store().serving_model()
    if served and version_backbone(served) != settings.LOOKALIKE_BACKBONE:
        raise FitRefused(
            f"The graph serves {served} but the configured backbone is {settings.LOOKALIKE_BACKBONE}: "
            "run `manage.py reembed` first, then fit."
        )
    if not automatic:
        ProjectionTurnedOff.objects.all().delete()
    fit = projection_fit_create(
        shrinkage=shrinkage,
        dimensions=dimensions,
        views=views,
        head=head,
        progress=progress,
        automatic=automatic,
    )
    try:
        return projection_serve(fit=fit, progress=progress)
    except BaseException as exc:  # interrupted or the graph went away: never left `building`
        ProjectionFit.objects.filter(pk=fit.pk).update(status=FitStatus.FAILED, error=repr(exc)[:2000])
        store = graph_store()
        if store.serving_model() != fit.version:
            try:
                store.model_drop(fit.version)
                schema_forget(fit.version)
            except Exception:  # noqa: BLE001 - the graph may be down; check_graph drops it later
                pass
        raise


# The admin suggests a refit once this share of the fitted images has been added, changed or removed.
REFIT_SUGGESTED_SHARE = 0.2


@dataclass(frozen=True)
class ServedFit:
    """The served version and how far the catalog has moved from its fit (for the admin)."""

    version: str | None
    fit: ProjectionFit | None
    products_now: int
    images_now: int
    images_changed: int  # embedded or re-synced since the fit, plus those removed since
    good_match_score: float | None = None  # the thresholds served under the version (None: no version yet)
    similar_min_score: float | None = None
    # A fit's own good match would be served (its estimate is made if missing).
    good_match_wanted: bool = False

    @property
    def changed_percent(self) -> int:
        return round(100 * self.images_changed / max(self.fit.images if self.fit else 0, 1))

    @property
    def refit_suggested(self) -> bool:
        if self.fit is None:
            return self.images_now > 0
        return self.images_changed >= REFIT_SUGGESTED_SHARE * max(self.fit.images, 1)


def _served_thresholds(version: str | None, fit: ProjectionFit | None) -> tuple[float | None, float | None]:
    """(good match, similar minimum) as insights/thresholds.py and search/versions.py serve them."""
    if version is None:
        return None, None
    if fit is None or fit.matrix is None:
        return settings.LOOKALIKE_INSIGHTS_GOOD_MATCH_SCORE, settings.LOOKALIKE_SIMILAR_MIN_SCORE
    return (
        version_threshold(
            version, field="good_match_score", setting="LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE"
        ),
        version_threshold(
            version, field="similar_min_score", setting="LOOKALIKE_PROJECTED_SIMILAR_MIN_SCORE"
        ),
    )


def _images_changed(images: QuerySet[ProductImage], fit: ProjectionFit, *, images_now: int) -> int:
    """Images added, re-synced or removed since the fit. Images up to its last image id were there at fit time
    (or pending then); without that id (older fits) a re-synced image also counts as one removed, twice."""
    if fit.last_image_pk is None:
        changed_or_new = images.filter(synced_at__gt=fit.fitted_at).count()
        return changed_or_new + max(0, fit.images - (images_now - changed_or_new))
    known = images.filter(pk__lte=fit.last_image_pk)
    known_now = known.count()
    resynced = known.filter(synced_at__gt=fit.fitted_at).count()
    return (images_now - known_now) + resynced + max(0, fit.images - known_now)


def fit_served_get(*, version: str | None) -> ServedFit:
    fit_id = version_fit_id(version) if version else None
    fit = ProjectionFit.objects.filter(pk=fit_id).first() if fit_id is not None else None
    backbone = version_backbone(version) if version else settings.LOOKALIKE_BACKBONE
    images = images_fittable(backbone)
    totals = images.aggregate(images=Count("pk"), products=Count("product_id", distinct=True))
    changed = totals["images"] if fit is None else _images_changed(images, fit, images_now=totals["images"])
    good_match, similar_min = _served_thresholds(version, fit)
    return ServedFit(
        version=version,
        fit=fit,
        products_now=totals["products"],
        images_now=totals["images"],
        images_changed=changed,
        good_match_score=good_match,
        similar_min_score=similar_min,
        good_match_wanted=fit_threshold_served("good_match_score"),
    )


@task()
def fit_calibrate_served_task() -> None:
    fit_calibrate_served()


@task()
def projection_refit_task() -> None:
    projection_refit(progress=no_progress)


@task()
def projection_off_task() -> None:
    projection_off(progress=no_progress)


def projection_off_on_commit() -> None:
    """The staff action: serve the raw backbone. Staff's choice is recorded now, in the request, so no automatic
    fit starts between the click and the task; the build and switch run after commit, on a worker."""
    ProjectionTurnedOff.record()
    transaction.on_commit(lambda: projection_off_task.enqueue())


def projection_refit_on_commit() -> None:
    """The staff action: fit and serve after commit (its progress is recorded on the fit's row)."""
    transaction.on_commit(lambda: projection_refit_task.enqueue())
