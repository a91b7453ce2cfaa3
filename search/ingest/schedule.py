"""Periodic tasks, run by the workers: django-tasks has no scheduler, so every `sync_worker` checks, at most
once a LOOKALIKE_WORKER_SCHEDULE_CHECK_S (60 s), whether a scheduled task is due, and enqueues it; the next
free worker runs it like any other task. Due means: no run of it is queued or running, and none was enqueued within its interval.

The check and the enqueue are one transaction, serialised between workers (SQLite: an exclusive
transaction; PostgreSQL: a transaction-level advisory lock), so several workers enqueue a due task once.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

CHECK_EVERY_S = 60.0  # the default of LOOKALIKE_WORKER_SCHEDULE_CHECK_S
# Any fixed number: the advisory lock the workers' schedule checks share on PostgreSQL.
_ADVISORY_LOCK_KEY = 1411


def tasks_due_enqueue(*, now: datetime | None = None) -> list[str]:
    """Enqueue the scheduled tasks (LOOKALIKE_WORKER_SCHEDULE: task path -> every N seconds) that are due."""
    now = now or timezone.now()
    enqueued = []
    for path, every_s in settings.LOOKALIKE_WORKER_SCHEDULE.items():
        if every_s <= 0:
            continue
        with exclusive_transaction():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
            pending = Q(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
            recent = Q(enqueued_at__gt=now - timedelta(seconds=every_s))
            if not DBTaskResult.objects.filter(Q(task_path=path) & (pending | recent)).exists():
                import_string(path).enqueue()
                enqueued.append(path)
    return enqueued


class ScheduleClock:
    """Rate-limits the check to once an `every_s` per worker (the first check is at start)."""

    def __init__(self, every_s: float = CHECK_EVERY_S) -> None:
        self.every_s = every_s
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.every_s
        return True
