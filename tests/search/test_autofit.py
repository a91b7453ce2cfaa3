"""The workers' automatic fit (search/autofit.py), one gate at a time, on the in-memory graph store (`memory_graph`,
a fake for unit tests) and synthetic stored vectors, with one real fit and switch on it. The real Neo4j, weights,
photos and a real worker process: tests/integration/test_autofit.py."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from catalog.models import ProductImage, SyncStatus
from search import fitting
from search.autofit import autofit_blocked, projection_autofit
from search.fitting import (
    FitRefused,
    fit_served_get,
    no_progress,
    projection_refit,
    projection_refit_task,
)
from search.graph import GraphUnavailable
from search.ingest.schedule import tasks_due_enqueue
from search.models import FitStatus, ProjectionFit, ProjectionTurnedOff
from search.tasks import image_sync_task, product_unindex_task
from search.versions import versions_forget
from tests.conftest import AUTO_FIT_TASK
from tests.factories import embedded_catalog_make

pytestmark = pytest.mark.django_db

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
BACKBONE = "efficientnet_lite0"
DIMENSIONS = 1280
ROOT = Path(__file__).resolve().parents[2]


def _catalog(*, products: int, photos: int) -> None:
    embedded_catalog_make(products=products, photos=photos, backbone=BACKBONE, dimensions=DIMENSIONS)


@pytest.fixture
def autofit_on(settings, memory_graph, monkeypatch):
    settings.LOOKALIKE_AUTO_FIT = True
    settings.TASKS = QUEUE  # the task table the gates read
    # The session's demo catalog, where an earlier test loaded it: out of the fits (rolled back after the test).
    ProductImage.objects.update(sync_status=SyncStatus.FAILED)
    monkeypatch.setattr(fitting, "SWITCH_GRACE_S", 0)  # one process: no other serving cache to wait for
    versions_forget()
    memory_graph.serving_switch(BACKBONE)
    yield memory_graph
    versions_forget()


@pytest.fixture
def settled(autofit_on):
    """24 products of 4 photos, synced, nothing queued, no fit yet: every gate open (each test closes one)."""
    _catalog(products=24, photos=4)
    assert autofit_blocked() is None
    return autofit_on


def test_with_every_gate_open_the_workers_fit_and_serve_once(settled):
    assert (
        projection_autofit() == f"switched from {BACKBONE} to {BACKBONE}__p{ProjectionFit.objects.get().pk}"
    )
    fit = ProjectionFit.objects.get()
    assert fit.status == FitStatus.SERVED and fit.automatic and fit.matrix is not None
    assert fit.images == 96 and settled.serving_model() == fit.version
    # Served and the catalog unchanged: the next runs leave it (no rebuild every interval).
    assert projection_autofit() == "not fitted: no refit suggested"
    assert ProjectionFit.objects.count() == 1


def test_turned_off_by_the_setting(settled, settings):
    settings.LOOKALIKE_AUTO_FIT = False
    assert autofit_blocked() == "turned off by LOOKALIKE_AUTO_FIT"
    assert projection_autofit().startswith("not fitted") and not ProjectionFit.objects.exists()


def test_staff_turning_the_projection_off_sticks_until_an_explicit_fit(settled):
    projection_refit(progress=no_progress, automatic=True)
    call_command("fit_projection", "--off", stdout=io.StringIO())
    assert settled.serving_model() == BACKBONE and ProjectionTurnedOff.objects.exists()
    # The catalog changes all it may: the workers still leave the raw backbone served.
    ProductImage.objects.update(synced_at=timezone.now())
    assert "turned off by staff" in autofit_blocked()
    with pytest.raises(FitRefused):  # an automatic fit neither switches nor clears staff's choice
        projection_refit(progress=no_progress, automatic=True)
    assert ProjectionTurnedOff.objects.exists() and settled.serving_model() == BACKBONE

    projection_refit(progress=no_progress)  # explicit: `fit_projection`, the admin's task

    assert not ProjectionTurnedOff.objects.exists()
    assert autofit_blocked() == "no refit suggested"


def test_staff_turning_it_off_while_an_automatic_fit_is_built_wins(settled, monkeypatch):
    built = settled.vector_index_rebuild

    def staff_turn_it_off_meanwhile(**kwargs):  # type: ignore[no-untyped-def]
        ProjectionTurnedOff.objects.create()  # as `fit_projection --off` records it first
        built(**kwargs)

    monkeypatch.setattr(settled, "vector_index_rebuild", staff_turn_it_off_meanwhile)

    assert projection_autofit().startswith("not switched: staff turned the projection off")

    fit = ProjectionFit.objects.get()
    assert settled.serving_model() == BACKBONE and fit.status == FitStatus.FAILED
    assert fit.version not in settled.image_models()  # its half-built version dropped


def test_not_while_the_graph_serves_another_backbone(settled):
    settled.serving_switch("lite0_projected_640")  # a reembed to another backbone not switched yet
    assert "not the configured backbone" in autofit_blocked()
    settled.serving = None  # nothing served yet
    assert "not the configured backbone" in autofit_blocked()


def test_not_while_a_fit_is_under_way(settled):
    building = ProjectionFit.objects.create(
        backbone=BACKBONE, grouping="product", shrinkage=0.2, dimensions=DIMENSIONS, products=24, images=96
    )
    assert autofit_blocked() == "a fit is under way"
    # Building for over an hour: its process was killed; it no longer holds the automatic fit off.
    ProjectionFit.objects.filter(pk=building.pk).update(fitted_at=timezone.now() - timedelta(hours=2))
    assert autofit_blocked() is None
    projection_refit_task.enqueue()  # the admin's fit, queued: its row is written only once fitted
    assert autofit_blocked() == "a fit is under way"


def test_not_while_catalog_syncs_are_queued_or_running(settled):
    task = image_sync_task.enqueue(image_id=ProductImage.objects.first().pk)
    assert autofit_blocked() == "catalog syncs are queued or running"
    DBTaskResult.objects.filter(id=task.id).update(status=TaskResultStatus.RUNNING)
    assert autofit_blocked() == "catalog syncs are queued or running"
    DBTaskResult.objects.filter(id=task.id).update(status=TaskResultStatus.SUCCESSFUL)
    assert autofit_blocked() is None
    # Neo4j was down: the batch waits to retry; the catalog is not settled yet.
    DBTaskResult.objects.filter(id=task.id).update(
        status=TaskResultStatus.READY, run_after=timezone.now() + timedelta(minutes=1)
    )
    assert autofit_blocked() == "catalog syncs are queued or running"
    DBTaskResult.objects.all().delete()
    product_unindex_task.enqueue(product_id=1)  # deletes change the fitted photos too
    assert autofit_blocked() == "catalog syncs are queued or running"


def test_refitted_once_a_fifth_of_the_fitted_photos_changed(settled):
    projection_autofit()
    fit = ProjectionFit.objects.get()
    fitted = ProductImage.objects.exclude(sync_status=SyncStatus.FAILED)
    pks = list(fitted.order_by("pk").values_list("pk", flat=True))
    later = timezone.now() + timedelta(seconds=1)
    ProductImage.objects.filter(pk__in=pks[:17]).update(synced_at=later)  # re-synced: each counts once
    ProductImage.objects.filter(pk=pks[-1]).delete()
    new = ProductImage.objects.get(pk=pks[-2])
    new.pk = None
    new.save()
    served = fit_served_get(version=fit.version)
    assert served.images_changed == 17 + 1 + 1 and served.changed_percent == 20  # 19 of 96: under 20%
    assert autofit_blocked() == "no refit suggested"
    ProductImage.objects.filter(pk=pks[17]).update(synced_at=later)

    assert projection_autofit().startswith(f"switched from {fit.version} to ")

    assert ProjectionFit.objects.get(status=FitStatus.SERVED).pk != fit.pk


@pytest.mark.parametrize(("products", "photos"), [(7, 4), (40, 1)], ids=["7 products", "1 photo each"])
def test_not_when_the_fit_would_be_the_identity(autofit_on, products, photos):
    # Below the fit's own thresholds (8 products with several photos, 64 photos in them) it learns nothing.
    _catalog(products=products, photos=photos)
    assert "the fit would be the identity" in autofit_blocked()


def test_a_failed_automatic_fit_is_recorded_and_tried_again_only_a_run_later(settled, settings, monkeypatch):
    def down(**kwargs):
        raise GraphUnavailable("Neo4j is down")

    monkeypatch.setattr(settled, "vector_index_rebuild", down)
    with pytest.raises(GraphUnavailable):
        projection_autofit()
    failed = ProjectionFit.objects.get()
    assert failed.status == FitStatus.FAILED and "Neo4j is down" in failed.error
    assert settled.serving_model() == BACKBONE
    # The workers' schedule: enqueued once an interval, not again after the run failed.
    settings.LOOKALIKE_WORKER_SCHEDULE = {AUTO_FIT_TASK: 300}
    assert tasks_due_enqueue() == [AUTO_FIT_TASK]
    DBTaskResult.objects.update(status=TaskResultStatus.FAILED)
    assert tasks_due_enqueue() == []
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=301))
    assert tasks_due_enqueue() == [AUTO_FIT_TASK]


def test_failed_automatic_fits_wait_twice_as_long_each_time_until_one_succeeds(
    settled, settings, monkeypatch
):
    settings.LOOKALIKE_AUTO_FIT_EVERY_S = 300

    def down(**kwargs):
        raise GraphUnavailable("Neo4j is down")

    def fail_once_more() -> None:
        with pytest.raises(GraphUnavailable):
            projection_autofit()

    def started_ago(seconds: int) -> None:
        ProjectionFit.objects.update(fitted_at=timezone.now() - timedelta(seconds=seconds))

    rebuild = settled.vector_index_rebuild
    monkeypatch.setattr(settled, "vector_index_rebuild", down)
    fail_once_more()
    assert autofit_blocked().startswith("the last 1 automatic fit(s) failed; the next try waits until")
    started_ago(599)
    assert autofit_blocked() is not None
    started_ago(601)  # 2 intervals
    assert autofit_blocked() is None
    fail_once_more()
    started_ago(601)
    assert autofit_blocked().startswith("the last 2 automatic fit(s) failed")
    started_ago(1201)  # 4 intervals
    assert autofit_blocked() is None
    monkeypatch.setattr(settled, "vector_index_rebuild", rebuild)  # Neo4j back
    assert projection_autofit().startswith("switched from")
    assert ProjectionFit.objects.filter(status=FitStatus.FAILED).count() == 2


def _schedule_in_a_fresh_process(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOOKALIKE_AUTO_FIT")}
    code = "import django; django.setup(); from django.conf import settings; print(settings.LOOKALIKE_WORKER_SCHEDULE)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.mark.parametrize(
    ("env", "every_s"),
    [({}, 300.0), ({"LOOKALIKE_AUTO_FIT_EVERY_S": "60"}, 60.0), ({"LOOKALIKE_AUTO_FIT": "0"}, 0)],
    ids=["default", "every 60 s", "off"],
)
def test_the_workers_schedule_it_by_default(env, every_s):
    assert f"'{AUTO_FIT_TASK}': {every_s}" in _schedule_in_a_fresh_process(**env)


def test_staff_turn_the_projection_off_from_the_admin_and_it_sticks(
    settled, admin_client, client, django_capture_on_commit_callbacks
):
    projection_refit(progress=no_progress, automatic=True)
    url = "/admin/search/projectionfit/off/"
    assert admin_client.get(url).status_code == 405
    assert client.post(url).status_code == 302 and not ProjectionTurnedOff.objects.exists()  # to the login

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url)

    assert response.status_code == 302 and response["Location"] == "/admin/search/projectionfit/"
    # Recorded at once, so no automatic fit starts before a worker has switched.
    assert ProjectionTurnedOff.objects.exists()
    queued = DBTaskResult.objects.get(task_path=fitting.projection_off_task.module_path)
    assert queued.status == TaskResultStatus.READY
    fitting.projection_off_task.call()  # as the worker runs it
    assert settled.serving_model() == BACKBONE
    ProductImage.objects.update(synced_at=timezone.now())  # the whole catalog changed since the fit
    assert "turned off by staff" in autofit_blocked()
    page = admin_client.get("/admin/search/projectionfit/").content.decode()
    assert "Turn the projection off" in page and "off: staff turned the projection off" in page
