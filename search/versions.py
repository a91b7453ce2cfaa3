"""Versions of the vector space: a backbone, optionally followed by a projection fit.

The graph keeps one image label, vector index and SIMILAR_TO set per model key, and IndexState names the
served one. A fit's version is such a key, `efficientnet_lite0__p3` (fit #3 over efficientnet_lite0's
vectors), so serving a new fit is the same build-beside-and-switch as serving a new backbone. A plain
backbone name is its identity version. The raw backbone vectors stay in the database
(ProductImage.embedding); every vector entering the graph or a query goes through `vectors_project`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Literal

import numpy as np
from django.conf import settings

from search.backbones import Backbone, backbone_get
from search.projection import Projection, project

SEPARATOR = "__p"

_projections: dict[int, Projection | None] = {}
# fit id -> (its calibrated thresholds, when to read them again: None for never)
_calibrations: dict[int, tuple[dict[str, float | None], float | None]] = {}
_projections_lock = threading.Lock()


def version_key(*, backbone: str, fit_id: int | None) -> str:
    return backbone if fit_id is None else f"{backbone}{SEPARATOR}{fit_id}"


def version_backbone(version: str) -> str:
    return version.split(SEPARATOR, 1)[0]


def version_fit_id(version: str) -> int | None:
    _, separator, fit_id = version.partition(SEPARATOR)
    return int(fit_id) if separator else None


def version_projection(version: str) -> Projection | None:
    """The fit's projection (cached: a fit never changes); None for a plain backbone or an identity fit."""
    fit_id = version_fit_id(version)
    if fit_id is None:
        return None
    with _projections_lock:
        if fit_id not in _projections:
            from search.fitting import projection_load

            _projections[fit_id] = projection_load(fit_id=fit_id)
        return _projections[fit_id]


def versions_forget() -> None:
    """Drop cached projections (a test database may reuse a rolled-back fit's id)."""
    with _projections_lock:
        _projections.clear()
        _calibrations.clear()


def version_dimensions(version: str) -> int:
    projection = version_projection(version)
    return backbone_get(version_backbone(version)).dimensions if projection is None else projection.dimensions


def vectors_project(vectors: np.ndarray, *, version: str) -> np.ndarray:
    """Raw backbone vectors (one or many) as unit vectors in `version`'s space: the one way in."""
    return project(np.asarray(vectors, dtype=np.float32), version_projection(version))


def versions_indexed() -> list[str]:
    """The versions new vectors must be written to: the served one (or the configured backbone while a
    `reembed` has yet to switch to it), and a fit being built beside it."""
    from search.graph import graph_store
    from search.models import FitStatus, ProjectionFit

    backbone = settings.LOOKALIKE_BACKBONE
    served = graph_store().serving_model()
    versions = {served if served and version_backbone(served) == backbone else backbone}
    building = ProjectionFit.objects.filter(status=FitStatus.BUILDING, backbone=backbone)
    versions.update(fit.version for fit in building.only("pk", "backbone"))
    return sorted(versions)


def version_checked() -> Backbone:
    """The version `check_graph` compares the catalog with, as a backbone named by its version key and
    sized by its dimensions: the served version if the configured backbone made it, else that backbone."""
    from search.graph import graph_store

    backbone = backbone_get(settings.LOOKALIKE_BACKBONE)
    served = graph_store().serving_model()
    if not served or served == backbone.name or version_backbone(served) != backbone.name:
        return backbone
    return replace(backbone, name=served, dimensions=version_dimensions(served))


Calibrated = Literal["good_match_score", "similar_min_score"]
_SETTING_OF: dict[str, str] = {
    "good_match_score": "LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE",
    "similar_min_score": "LOOKALIKE_PROJECTED_SIMILAR_MIN_SCORE",
}
# A fit whose good match is not estimated yet (the worker estimates the served fit's once the flag is on,
# search/fitting.py `fit_calibrate_served`) is read again at most this often; an estimated one is cached.
CALIBRATION_RECHECK_S = 60.0
_monotonic = time.monotonic  # the tests' clock


def fit_threshold_served(field: Calibrated) -> bool:
    """Whether a served fit's own value of this threshold would be served (the flag on, the setting not set
    in the environment): the good-match estimate costs a second fit, made only when this is true."""
    return (
        settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT
        and _SETTING_OF[field] not in settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_ENV
    )


def version_calibrated(version: str, field: Calibrated) -> float | None:
    """The fit's own calibrated threshold; None if it has none or is gone. Cached, except that a fit whose
    good match is not estimated yet is read again after CALIBRATION_RECHECK_S."""
    fit_id = version_fit_id(version)
    if fit_id is None:
        return None
    with _projections_lock:
        cached = _calibrations.get(fit_id)
        if cached is None or cached[1] is not None and _monotonic() >= cached[1]:
            from search.models import ProjectionFit

            fields = ("good_match_score", "similar_min_score", "good_match_estimated_at")
            row = ProjectionFit.objects.filter(pk=fit_id).values_list(*fields).first()
            values = dict(zip(fields[:2], row[:2], strict=True)) if row else {}
            pending = row is not None and row[2] is None
            cached = (values, _monotonic() + CALIBRATION_RECHECK_S if pending else None)
            _calibrations[fit_id] = cached
        return cached[0].get(field)


def version_threshold(version: str, *, field: Calibrated, setting: str) -> float:
    """A projected version's threshold: the setting if the operator set it in the environment, else the
    fit's own (when LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT), else the setting's default."""
    default: float = getattr(settings, setting)
    if not fit_threshold_served(field):
        return default
    calibrated = version_calibrated(version, field)
    return default if calibrated is None else calibrated


def version_similar_min_score(version: str) -> float:
    """SIMILAR_TO keeps neighbours from this cosine: the scale differs with and without a projection."""
    if version_projection(version) is None:
        return settings.LOOKALIKE_SIMILAR_MIN_SCORE
    return version_threshold(
        version, field="similar_min_score", setting="LOOKALIKE_PROJECTED_SIMILAR_MIN_SCORE"
    )
