"""A real `sync_worker` process expires the search event log from its schedule (PostgreSQL, as deployed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from insights.events import event_id_new
from insights.models import Interface, SearchEvent, SearchKind
from insights.tasks import insights_expire_task
from tests.integration.test_workers import _worker, committed, worker_env  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _event(days_ago: int) -> SearchEvent:
    return SearchEvent.objects.create(
        id=event_id_new(),
        created_at=timezone.now() - timedelta(days=days_ago),
        kind=SearchKind.PHOTO,
        interface=Interface.API,
    )


def test_a_worker_process_expires_old_events_on_its_schedule(committed, worker_env, tmp_path):  # noqa: F811
    old, recent = _event(100), _event(3)
    try:
        worker = _worker(worker_env, tmp_path / "worker.log", "scheduled", "--exit-when-idle")
        assert worker.wait(timeout=300) == 0, (tmp_path / "worker.log").read_text()

        assert not SearchEvent.objects.filter(pk=old.pk).exists()
        assert SearchEvent.objects.filter(pk=recent.pk).exists()
        task = DBTaskResult.objects.get(task_path=insights_expire_task.module_path)
        assert task.status == TaskResultStatus.SUCCESSFUL and task.worker_ids == ["scheduled"]
        assert "insights_expire_task enqueued" in (tmp_path / "worker.log").read_text()
    finally:
        SearchEvent.objects.filter(pk__in=[old.pk, recent.pk]).delete()
