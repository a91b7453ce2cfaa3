"""Which thresholds a projected version serves (search/versions.py): the operator's variable, the fit's own
calibration, the settings' defaults, in that order."""

from __future__ import annotations

import time

import numpy as np
import pytest
from django.utils import timezone

from insights.thresholds import good_match_score
from search import versions
from search.fitting import fit_served_get
from search.models import ProjectionFit
from search.versions import version_similar_min_score, versions_forget
from tests.factories import served_fit_make

pytestmark = pytest.mark.django_db

DIMENSIONS = 1280


@pytest.fixture(autouse=True)
def _defaults(settings):
    versions_forget()  # a rolled-back fit's id is reused by the next test
    settings.LOOKALIKE_SIMILAR_MIN_SCORE = 0.5
    settings.LOOKALIKE_PROJECTED_SIMILAR_MIN_SCORE = 0.1
    settings.LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE = 0.41
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_ENV = frozenset()
    yield
    versions_forget()


def _fit(*, good_match: float | None, similar_min: float | None) -> ProjectionFit:
    return served_fit_make(
        np.eye(DIMENSIONS),
        good_match_score=good_match,
        similar_min_score=similar_min,
        good_match_estimated_at=None if good_match is None else timezone.now(),
    )


def _served(version: str) -> tuple[float, float]:
    return good_match_score(version), version_similar_min_score(version)


def test_off_the_settings_are_served_whatever_the_fit_calibrated(settings):
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = False
    fit = _fit(good_match=0.3, similar_min=0.05)
    assert _served(fit.version) == (0.41, 0.1)


def test_on_the_fits_own_thresholds_are_served(settings):
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    fit = _fit(good_match=0.3, similar_min=0.05)
    assert _served(fit.version) == (0.3, 0.05)


def test_a_variable_set_in_the_environment_wins_over_the_fit(settings):
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_ENV = frozenset({"LOOKALIKE_PROJECTED_SIMILAR_MIN_SCORE"})
    fit = _fit(good_match=0.3, similar_min=0.05)
    assert _served(fit.version) == (0.3, 0.1)  # only the one set


def test_a_fit_without_its_own_thresholds_gets_the_defaults(settings):
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    fit = _fit(good_match=None, similar_min=0.05)
    assert _served(fit.version) == (0.41, 0.05)


def test_a_fit_deleted_before_it_was_read_gets_the_defaults(settings):
    # Insights judge old searches by the version that served them, whose fit may be gone.
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    fit = _fit(good_match=0.3, similar_min=0.05)
    version = fit.version
    fit.delete()
    assert good_match_score(version) == 0.41


def test_a_raw_backbone_keeps_its_own_settings(settings):
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    settings.LOOKALIKE_INSIGHTS_GOOD_MATCH_SCORE = 0.77
    assert _served("efficientnet_lite0") == (0.77, 0.5)


def test_the_admin_shows_the_served_thresholds_and_the_fits_own(settings, memory_graph, admin_client):
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    fit = _fit(good_match=0.312, similar_min=0.047)
    memory_graph.serving_switch(fit.version)
    served = fit_served_get(version=fit.version)
    assert (served.good_match_score, served.similar_min_score) == (0.312, 0.047)
    page = admin_client.get("/admin/search/projectionfit/").content.decode()
    assert "good match 0.312, similar items 0.047" in page  # calibrated on its photos
    assert "good match ≥ 0.312" in page and "similar items ≥ 0.047" in page  # served
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = False
    page = admin_client.get("/admin/search/projectionfit/").content.decode()
    assert "good match ≥ 0.410" in page and "similar items ≥ 0.100" in page


def test_a_fit_awaiting_its_good_match_is_read_again_an_estimated_one_is_not(settings, monkeypatch):
    # The worker fills a served fit's good match in after the flag is turned on (search/fitting.py
    # `fit_calibrate_served`); every process serving it picks it up within CALIBRATION_RECHECK_S.
    settings.LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = True
    fit = _fit(good_match=None, similar_min=0.05)
    assert good_match_score(fit.version) == 0.41
    ProjectionFit.objects.filter(pk=fit.pk).update(
        good_match_score=0.3, good_match_estimated_at=timezone.now()
    )
    assert good_match_score(fit.version) == 0.41  # cached until the recheck
    later = time.monotonic() + versions.CALIBRATION_RECHECK_S + 1
    monkeypatch.setattr(versions, "_monotonic", lambda: later)
    assert good_match_score(fit.version) == 0.3
    ProjectionFit.objects.filter(pk=fit.pk).update(good_match_score=0.2)
    later += 10 * versions.CALIBRATION_RECHECK_S
    assert good_match_score(fit.version) == 0.3  # estimated: cached for good
