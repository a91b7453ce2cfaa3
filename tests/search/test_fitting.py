"""A fit's thresholds (search/fitting.py), on synthetic stored vectors: calibrated at fit time (`_calibrated`),
the good match only where it will be served, and estimated later for the served fit once it will be."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from django.apps import apps as django_apps

from insights.thresholds import good_match_score
from search import fitting
from search.fitting import _calibrated, _fitted
from search.head import HeadSettings
from search.models import FitStatus, ProjectionFit
from search.projection import normalised
from search.stored_vectors import vector_to_bytes
from search.versions import version_similar_min_score, versions_forget
from tests.factories import embedded_catalog_make, served_fit_make


def _rows(spread: float, *, products: int = 30, photos: int = 4) -> list[tuple[int, int, bytes]]:
    rng = np.random.default_rng(0)
    centres = normalised(rng.normal(size=(products, 64)))
    rows = []
    for product in range(products):
        for _ in range(photos):
            vector = normalised(centres[product] + rng.normal(size=64) * spread / 8)
            rows.append((product, product % 3, vector_to_bytes(vector)))
    return rows


def _calibration(spread: float):
    rows = _rows(spread)
    no_views = np.zeros((0, 64), dtype=np.float32)
    projection, trained = _fitted(
        rows,
        shrinkage=0.2,
        dimensions=None,
        extra=no_views,
        extra_positions=np.zeros(0, dtype=np.int64),
        head=HeadSettings(),
    )
    assert projection is not None and trained
    return _calibrated(rows, projection, shrinkage=0.2, dimensions=None, head=HeadSettings())


def test_a_fit_calibrates_both_thresholds_on_its_own_photos():
    calibration = _calibration(spread=0.8)
    assert calibration.good_match_score is not None and calibration.similar_min_score is not None
    assert -1 < calibration.similar_min_score < calibration.good_match_score < 1
    assert calibration.seconds > 0


def test_a_catalog_whose_photos_agree_more_gets_a_higher_good_match():
    tight, loose = _calibration(spread=0.5), _calibration(spread=1.5)
    assert tight.good_match_score is not None and loose.good_match_score is not None
    assert tight.good_match_score > loose.good_match_score


# --- The good match is estimated only where it will be served; the worker fills it in once it will be. ---

DIMENSIONS = 1280  # the configured backbone's (efficientnet_lite0)


@pytest.fixture
def catalog(settings):
    """24 products of 4 photos (4 categories) whose stored vectors group by product, as embedded images."""
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_ENV = frozenset()
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = False
    settings.LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE = 0.41
    versions_forget()
    embedded_catalog_make(products=24, photos=4, dimensions=DIMENSIONS)
    yield
    versions_forget()


@pytest.fixture
def fits_made(monkeypatch):
    """How many fits (`_fitted`) each projection fit made: 2 with the held-out fit, 1 without."""
    made = []
    original = fitting._fitted

    def counted(*args, **kwargs):
        made.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(fitting, "_fitted", counted)
    return made


@pytest.mark.django_db
def test_flag_off_a_fit_skips_the_held_out_fit_and_keeps_its_similar_minimum(catalog, fits_made):
    fit = fitting.projection_fit_create()
    assert fit.matrix is not None and fit.head_epochs > 0
    assert len(fits_made) == 1  # no second fit
    assert fit.good_match_score is None and fit.good_match_estimated_at is None
    assert fit.similar_min_score is not None  # cheap: always estimated, shown in the admin


@pytest.mark.django_db
def test_flag_on_a_fit_estimates_its_good_match_at_fit_time(catalog, fits_made, settings):
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    fit = fitting.projection_fit_create()
    assert len(fits_made) == 2
    assert fit.good_match_score is not None and fit.good_match_estimated_at is not None
    ProjectionFit.objects.filter(pk=fit.pk).update(status=FitStatus.SERVED)
    assert fitting.fit_calibrate_served() is None  # nothing left for the worker


@pytest.mark.django_db
def test_a_good_match_pinned_in_the_environment_is_not_estimated(catalog, fits_made, settings):
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_ENV = frozenset(
        {"LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE"}
    )
    fit = fitting.projection_fit_create()
    assert len(fits_made) == 1 and fit.good_match_estimated_at is None


@pytest.mark.django_db
def test_turned_on_later_the_worker_estimates_what_the_fit_would_have(catalog, settings):
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    at_fit = fitting.projection_fit_create()  # the reference: estimated at fit time
    ProjectionFit.objects.filter(pk=at_fit.pk).delete()
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = False
    fit = fitting.projection_fit_create()
    # An older fit: neither threshold. Served with the defaults until the flag is on and the worker runs.
    ProjectionFit.objects.filter(pk=fit.pk).update(status=FitStatus.SERVED, similar_min_score=None)
    assert fitting.fit_calibrate_served() is None  # flag off: nothing estimated
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    assert good_match_score(fit.version) == settings.LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE

    fitting.fit_calibrate_served_task.enqueue()  # the scheduled task (immediate backend in tests)

    fit.refresh_from_db()
    assert fit.good_match_estimated_at is not None and fit.calibration_seconds > 0
    assert fit.good_match_score == pytest.approx(at_fit.good_match_score, abs=1e-4)
    assert fit.similar_min_score == pytest.approx(at_fit.similar_min_score, abs=1e-4)
    assert good_match_score(fit.version) == fit.good_match_score  # served now
    assert version_similar_min_score(fit.version) == fit.similar_min_score
    assert fitting.fit_calibrate_served() is None  # once


@pytest.mark.django_db
def test_the_admin_says_why_a_fit_has_no_good_match(catalog, settings, memory_graph, admin_client):
    fit = fitting.projection_fit_create()
    ProjectionFit.objects.filter(pk=fit.pk).update(status=FitStatus.SERVED)
    memory_graph.serving_switch(fit.version)
    page = admin_client.get("/admin/search/projectionfit/").content.decode()
    assert "good match not estimated (a second fit, made only while" in page
    assert f"similar items {fit.similar_min_score:.3f}" in page
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    page = admin_client.get("/admin/search/projectionfit/").content.decode()
    assert "good match not estimated yet" in page and "good match ≥ 0.410" in page
    fit = fitting.fit_calibrate_served()
    page = admin_client.get("/admin/search/projectionfit/").content.decode()
    assert f"good match {fit.good_match_score:.3f} (estimated " in page  # later than the fit, said so
    assert f"good match ≥ {fit.good_match_score:.3f}" in page


@pytest.mark.django_db
def test_fits_calibrated_at_fit_time_before_this_count_as_estimated():
    # Migration search 0005: fits of 7b1f056 (calibration_seconds > 0) made the held-out fit, even if it
    # found too few photos; older fits did not, so the worker estimates them once the flag is on.
    migration = importlib.import_module("search.migrations.0005_fit_good_match_estimated_at")
    calibrated = served_fit_make(np.eye(4), calibration_seconds=7.0, good_match_score=None)
    older = served_fit_make(np.eye(4))
    migration.calibrated_fits_mark(django_apps, None)
    calibrated.refresh_from_db()
    older.refresh_from_db()
    assert calibrated.good_match_estimated_at == calibrated.fitted_at
    assert older.good_match_estimated_at is None
