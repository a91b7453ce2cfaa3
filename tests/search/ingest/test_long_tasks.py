"""A task that runs longer than the lease (a projection fit: minutes at 10k images, the lease 120 s) stays its
worker's: the worker renews the lease while it runs (search/ingest/worker.py `_run_one`), so no second worker
takes it up and runs a second fit beside the first. On the test PostgreSQL, committed rows, two workers."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from search import autofit, fitting
from search.ingest.worker import SyncWorker

pytestmark = pytest.mark.postgres

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LEASE_S = 1.0
FIT_S = 3.5  # three and a half leases


@pytest.mark.parametrize(
    ("task", "module", "name"),
    [
        (fitting.projection_refit_task, fitting, "projection_refit"),
        (autofit.projection_autofit_task, autofit, "projection_autofit"),
    ],
    ids=["admin's fit", "automatic fit"],
)
def test_a_fit_longer_than_the_lease_is_run_by_one_worker_only(
    rows_kept_across_flush, transactional_db, settings, monkeypatch, task, module, name
):
    if connection.vendor != "postgresql":
        pytest.skip("two workers' connections: PostgreSQL")
    settings.TASKS = QUEUE
    settings.LOOKALIKE_WORKER_SCHEDULE = {}
    runs: list[str] = []

    def slow_fit(**kwargs) -> str:  # type: ignore[no-untyped-def]
        runs.append(threading.current_thread().name)
        time.sleep(FIT_S)
        return "fitted"

    monkeypatch.setattr(module, name, slow_fit)
    queued = task.enqueue()
    first = SyncWorker(worker_id="first", batch_size=1, lease_s=LEASE_S)

    def run_first() -> None:
        try:
            assert first.step()
        finally:
            connection.close()  # this thread's own connection

    runner = threading.Thread(target=run_first, name="first")
    runner.start()
    while not runs:  # the first worker holds it and has started the fit
        time.sleep(0.01)
    second = SyncWorker(worker_id="second", batch_size=1, lease_s=LEASE_S)
    deadline = time.monotonic() + FIT_S - 0.5
    while time.monotonic() < deadline:  # a second worker polls the queue all through the fit
        second.step()
        time.sleep(0.05)
    runner.join(timeout=30)

    done = DBTaskResult.objects.get(id=queued.id)
    assert runs == ["first"]
    assert done.status == TaskResultStatus.SUCCESSFUL and done.worker_ids == ["first"]
