"""Finished task results are pruned by age (search/ingest/task_results.py); unfinished ones never."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from search.ingest.task_results import task_results_prune
from search.tasks import image_sync_task

pytestmark = pytest.mark.django_db

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _result(status: str, *, finished_days_ago: float | None) -> str:
    result_id = image_sync_task.enqueue(image_id=1).id
    finished_at = None if finished_days_ago is None else timezone.now() - timedelta(days=finished_days_ago)
    DBTaskResult.objects.filter(id=result_id).update(status=status, finished_at=finished_at)
    return str(result_id)


def test_finished_results_older_than_the_setting_go_and_the_rest_stay(settings):
    settings.TASKS = QUEUE
    settings.LOOKALIKE_TASK_RESULTS_KEEP_DAYS = 14
    settings.LOOKALIKE_WORKER_SCHEDULE = {"insights.tasks.insights_expire_task": 86400.0}
    old = {
        _result(TaskResultStatus.SUCCESSFUL, finished_days_ago=15),
        _result(TaskResultStatus.FAILED, finished_days_ago=15),
    }
    kept = {
        _result(TaskResultStatus.SUCCESSFUL, finished_days_ago=13),
        _result(TaskResultStatus.READY, finished_days_ago=None),
        _result(TaskResultStatus.RUNNING, finished_days_ago=None),
    }
    assert task_results_prune() == 2
    remaining = {str(i) for i in DBTaskResult.objects.values_list("id", flat=True)}
    assert kept <= remaining and not old & remaining


def test_results_are_kept_as_long_as_the_longest_schedule_interval_looks_back(settings):
    settings.TASKS = QUEUE
    settings.LOOKALIKE_TASK_RESULTS_KEEP_DAYS = 1
    settings.LOOKALIKE_WORKER_SCHEDULE = {"insights.tasks.insights_expire_task": 7 * 86400.0}
    _result(TaskResultStatus.SUCCESSFUL, finished_days_ago=6)
    assert task_results_prune() == 0
    _result(TaskResultStatus.SUCCESSFUL, finished_days_ago=8)
    assert task_results_prune() == 1
