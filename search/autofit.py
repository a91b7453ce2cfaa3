"""The automatic fit: the queue workers fit and serve the catalog projection (search/fitting.py) themselves.

Fitting is otherwise staff's to start, and a shop that never runs `fit_projection` would be served the raw
backbone: the measured gain (docs/benchmarks.md, "Catalog projection") would reach only those who read the
README. The workers' schedule (LOOKALIKE_WORKER_SCHEDULE) runs `projection_autofit_task` every
LOOKALIKE_AUTO_FIT_EVERY_S; it fits and switches only when `autofit_blocked` finds nothing in the way. A
failed fit is marked so on its row (as any fit) and tried again after 2 intervals, then 4, 8, ... (at most a
day) while they keep failing; the schedule enqueues the task at most once an interval, and never while a run is
queued or running.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from search.fitting import (
    FitRefused,
    fit_served_get,
    images_fittable,
    no_progress,
    projection_refit,
    projection_refit_task,
)
from search.graph import graph_store
from search.ingest.claims import tasks_unfinished_exist
from search.models import FitStatus, ProjectionFit, ProjectionTurnedOff
from search.projection import grouping_choose
from search.tasks import image_sync_task, image_unindex_task, product_unindex_task
from search.versions import version_backbone

logger = logging.getLogger("lookalike.autofit")

# Work that changes the catalog's photos: while any is queued (or waits to retry) or runs, an import or a bulk
# edit is under way, and a fit now would be made on part of it and soon be suggested again.
SYNC_TASK_PATHS = (
    image_sync_task.module_path,
    image_unindex_task.module_path,
    product_unindex_task.module_path,
)
# A fit whose row has said `building` for this long is taken for abandoned (a SIGKILLed process leaves its row
# so) and no longer holds the automatic fit off: a 10k-image fit and switch takes under 2 minutes here.
ABANDONED_AFTER_S = 3600.0
# A fit that keeps failing (Neo4j down, a full disk) would otherwise read every stored vector each interval.
BACKOFF_MAX_S = 86400.0


def _fit_underway() -> bool:
    """A fit being built, or the admin's fit queued or running (its row is written only once it is fitted)."""
    since = timezone.now() - timedelta(seconds=ABANDONED_AFTER_S)
    if ProjectionFit.objects.filter(status=FitStatus.BUILDING, fitted_at__gt=since).exists():
        return True
    return tasks_unfinished_exist(task_paths=[projection_refit_task.module_path])


def _backing_off() -> str | None:
    """After n automatic fits failed in a row (the latest fits), the next waits 2**n intervals (capped)."""
    failed_at = []
    for automatic, status, fitted_at in ProjectionFit.objects.order_by("-pk").values_list(
        "automatic", "status", "fitted_at"
    )[:20]:
        if not (automatic and status == FitStatus.FAILED):
            break
        failed_at.append(fitted_at)
    if not failed_at:
        return None
    wait_s = min(settings.LOOKALIKE_AUTO_FIT_EVERY_S * 2 ** len(failed_at), BACKOFF_MAX_S)
    retry_at = failed_at[0] + timedelta(seconds=wait_s)
    if timezone.now() >= retry_at:
        return None
    return f"the last {len(failed_at)} automatic fit(s) failed; the next try waits until {retry_at:%Y-%m-%d %H:%M} UTC"


def _groups_enough(backbone: str) -> bool:
    """Whether the fit would learn anything: the fit's own grouping thresholds, on product and category ids
    only (no vectors read). Below them the fit is the identity, and building it would only rebuild the graph."""
    rows = list(images_fittable(backbone).values_list("product_id", "product__category_id"))
    grouping, _ = grouping_choose([p for p, _ in rows], [c for _, c in rows])
    return grouping != "identity"


def autofit_blocked() -> str | None:
    """Why the workers must not fit now (cheapest checks first); None: fit."""
    if not settings.LOOKALIKE_AUTO_FIT:
        return "turned off by LOOKALIKE_AUTO_FIT"
    if ProjectionTurnedOff.objects.exists():
        return "turned off by staff (fit_projection --off or the admin); an explicit fit turns it back on"
    backing_off = _backing_off()
    if backing_off:
        return backing_off
    backbone = settings.LOOKALIKE_BACKBONE
    served = graph_store().serving_model()
    if served is None or version_backbone(served) != backbone:
        return f"the graph serves {served or 'nothing yet'}, not the configured backbone {backbone}"
    if _fit_underway():
        return "a fit is under way"
    if tasks_unfinished_exist(task_paths=SYNC_TASK_PATHS):
        return "catalog syncs are queued or running"
    if not fit_served_get(version=served).refit_suggested:
        return "no refit suggested"
    if not _groups_enough(backbone):
        return "too few products with several photos: the fit would be the identity"
    return None


def autofit_state() -> str:
    """The admin's line on the automatic fit: on, or what turned it off."""
    if not settings.LOOKALIKE_AUTO_FIT:
        return "off (LOOKALIKE_AUTO_FIT=0)"
    turned_off = ProjectionTurnedOff.objects.first()
    if turned_off:
        return (
            f"off: staff turned the projection off on {turned_off.turned_off_at:%Y-%m-%d %H:%M} UTC "
            "(fit_projection --off or the admin); an explicit fit turns it back on"
        )
    return (
        "on: the workers fit and switch once no catalog sync is queued or running and a refit is suggested "
        f"(checked every {settings.LOOKALIKE_AUTO_FIT_EVERY_S:.0f} s)"
    )


def projection_autofit() -> str:
    """Fit and serve unless blocked; what it did, or why not (the task's return value, for the task table)."""
    blocked = autofit_blocked()
    if blocked:
        return f"not fitted: {blocked}"
    logger.info("Automatic fit: fitting the catalog projection")
    try:
        report = projection_refit(progress=no_progress, automatic=True)
    except FitRefused as refused:  # staff's `fit_projection --off` came while it was built: theirs stands
        logger.info("Automatic fit: %s", refused)
        return f"not switched: {refused}"
    fit = report.fit
    assert fit is not None  # a refit always serves a fit (its own identity fit at worst)
    logger.info(
        "Automatic fit: %s fitted on %d images in %.1f s; switched from %s",
        fit.version,
        fit.images,
        fit.fit_seconds,
        report.previous_version,
    )
    return f"switched from {report.previous_version} to {fit.version}"


@task()
def projection_autofit_task() -> str:
    return projection_autofit()
