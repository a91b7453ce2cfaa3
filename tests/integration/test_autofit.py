"""The automatic fit (search/autofit.py) by a real `sync_worker` process, on the real PostgreSQL, Neo4j, weights
and demo photos: once the queued photo is synced, the worker fits the projection on its own and switches the
graph to it, and searches are then answered in the fit's version. Switched back to the raw backbone at the end,
so the demo graph other tests read is the one they expect."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from catalog.importers import grocery_store_query_photos
from catalog.models import ProductImage
from search.autofit import projection_autofit_task
from search.models import FitStatus, ProjectionFit, ProjectionTurnedOff
from search.serving import serving_forget
from search.similarity import search_by_image
from search.tasks import image_sync_task
from tests.integration.test_workers import _apple, _wait_for, _worker, committed, worker_env  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

AUTO_FIT = projection_autofit_task.module_path


def _results() -> list[str]:
    runs = DBTaskResult.objects.filter(task_path=AUTO_FIT, finished_at__isnull=False).order_by("enqueued_at")
    return [str(run.return_value) for run in runs]


def test_a_worker_fits_once_the_catalog_is_synced_and_searches_read_the_fit(
    demo_catalog,
    committed,  # noqa: F811 - the worker tests' fixtures, imported
    worker_env,  # noqa: F811
    grocery_dir,
    tmp_path,
    neo4j_graph,
):
    backbone = settings.LOOKALIKE_BACKBONE
    assert neo4j_graph.serving_model() == backbone and not ProjectionFit.objects.exists()
    image = _apple(grocery_dir)
    # Its sync queued, and held back 4 s (as after a failed batch) so the worker's first check finds it queued.
    syncs = DBTaskResult.objects.filter(task_path=image_sync_task.module_path)
    syncs.update(run_after=timezone.now() + timedelta(seconds=4))
    worker_env.update(
        LOOKALIKE_AUTO_FIT="1", LOOKALIKE_AUTO_FIT_EVERY_S="1", LOOKALIKE_WORKER_SCHEDULE_CHECK_S="0.5"
    )
    log = tmp_path / "worker.log"
    worker = _worker(worker_env, log, "fitter")
    try:
        _wait_for(  # the task ends once the fit is served and the old version dropped
            lambda: any(result.startswith("switched") for result in _results()),
            timeout_s=600,
            what=f"an automatic fit served; worker log:\n{log.read_text()[-3000:]}",
        )
        fit = ProjectionFit.objects.get(status=FitStatus.SERVED)
        image.refresh_from_db()
        assert image.synced_at is not None and image.synced_at < fit.fitted_at  # fitted after the sync
        assert fit.automatic and fit.grouping == "product" and fit.head_epochs > 0
        assert fit.images == ProductImage.objects.count() and fit.products == len(demo_catalog) + 1
        assert neo4j_graph.serving_model() == fit.version
        results = _results()
        switched = results.index(f"switched from {backbone} to {fit.version}")
        assert set(results[:switched]) == {"not fitted: catalog syncs are queued or running"}
        # Later checks leave the served fit be: the catalog has not changed since.
        _wait_for(lambda: len(_results()) >= switched + 3, timeout_s=60, what="two more checks")
        assert set(_results()[switched + 1 :]) == {"not fitted: no refit suggested"}
        assert ProjectionFit.objects.count() == 1

        serving_forget()
        photo, _ = grocery_store_query_photos(grocery_dir, shop_photos_per_product=3)[0]  # held out
        upload = SimpleUploadedFile(photo.name, photo.read_bytes(), "image/jpeg")
        matches = search_by_image(upload=upload, k=5)
        assert len(matches) == 5 and matches.model == fit.version  # type: ignore[attr-defined]
    finally:
        worker.terminate()
        worker.wait(timeout=120)
        call_command("fit_projection", "--off", stdout=io.StringIO(), stderr=io.StringIO())
        ProjectionTurnedOff.objects.all().delete()
        ProjectionFit.objects.all().delete()
    assert neo4j_graph.serving_model() == backbone


@pytest.mark.django_db
def test_the_admin_says_whether_the_workers_fit_automatically(neo4j_graph, admin_client, settings):
    def said() -> str:
        page = admin_client.get("/admin/search/projectionfit/").content.decode()
        return page.split("Automatic fit</th><td>", 1)[1].split("</td>", 1)[0]

    settings.LOOKALIKE_AUTO_FIT = True
    assert said().startswith("on: the workers fit and switch once no catalog sync is queued or running")
    ProjectionTurnedOff.objects.create()
    assert said().startswith("off: staff turned the projection off on ")
    settings.LOOKALIKE_AUTO_FIT = False
    assert said() == "off (LOOKALIKE_AUTO_FIT=0)"
