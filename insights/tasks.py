"""The event log's expiry as a queue task, enqueued daily by the workers' schedule (search/ingest/schedule.py)."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django_tasks import task

from insights.retention import events_expire


@task()
def insights_expire_task() -> dict[str, int]:
    return asdict(events_expire(retention_days=settings.LOOKALIKE_INSIGHTS_RETENTION_DAYS))
