"""Expiry from the workers' schedule: a worker enqueues the due expiry task and runs it like any other."""

from __future__ import annotations

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from insights.models import SearchEvent
from insights.tasks import insights_expire_task
from search.ingest.worker import SyncWorker
from tests.insights.test_retention import _searched

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_a_worker_expires_old_events_from_its_schedule(products, settings):
    settings.TASKS = QUEUE
    settings.LOOKALIKE_WORKER_SCHEDULE = {insights_expire_task.module_path: 86400.0}  # the expiry alone
    settings.LOOKALIKE_INSIGHTS_RETENTION_DAYS = 30
    _searched(products, days_ago=40)
    recent = _searched(products, days_ago=3)
    worker = SyncWorker(worker_id="w", batch_size=8, lease_s=60)

    worker._schedule_check()  # what its loop does at start and then once a minute
    assert worker.step()

    assert list(SearchEvent.objects.values_list("pk", flat=True)) == [recent]
    task = DBTaskResult.objects.get(task_path=insights_expire_task.module_path)
    assert task.status == TaskResultStatus.SUCCESSFUL and task.return_value["events"] == 1
    worker._schedule_check()
    assert not worker.step()  # ran today: not due again
