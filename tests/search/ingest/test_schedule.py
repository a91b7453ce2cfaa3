"""The workers' schedule of periodic tasks (search/ingest/schedule.py), on the test database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from search.ingest.schedule import ScheduleClock, tasks_due_enqueue

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EXPIRE = "insights.tasks.insights_expire_task"


@pytest.fixture
def hourly(settings):
    settings.TASKS = QUEUE
    settings.LOOKALIKE_WORKER_SCHEDULE = {EXPIRE: 3600}


def test_a_due_task_is_enqueued_once_until_its_interval_has_passed(hourly):
    assert tasks_due_enqueue() == [EXPIRE]
    assert tasks_due_enqueue() == []  # queued, not run yet: not again
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)
    assert tasks_due_enqueue() == []  # running
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL)
    assert tasks_due_enqueue() == []  # ran within the hour
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=3601))
    assert tasks_due_enqueue() == [EXPIRE]
    assert DBTaskResult.objects.filter(task_path=EXPIRE, status=TaskResultStatus.READY).count() == 1


def test_a_failed_run_is_tried_again_after_its_interval_not_before(hourly):
    tasks_due_enqueue()
    DBTaskResult.objects.update(status=TaskResultStatus.FAILED)
    assert tasks_due_enqueue() == []
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=3601))
    assert tasks_due_enqueue() == [EXPIRE]


def test_an_interval_of_zero_turns_the_task_off(hourly, settings):
    settings.LOOKALIKE_WORKER_SCHEDULE = {EXPIRE: 0}
    assert tasks_due_enqueue() == [] and not DBTaskResult.objects.exists()


def test_a_worker_checks_at_start_then_once_per_interval():
    clock = ScheduleClock(every_s=3600)
    assert clock.due() and not clock.due()
