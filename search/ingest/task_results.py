"""Finished task results are deleted once LOOKALIKE_TASK_RESULTS_KEEP_DAYS old, daily, by the workers' schedule.

django-tasks-db keeps every finished task, and every photo synced leaves one: a 300k-photo import leaves 300k
rows, the automatic fit's check 288 a day. Nothing reads a finished result (an image's sync state and error
live on the image) except the schedule, which looks back one interval for a periodic task's last run: results
are kept at least as long as the longest interval.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("lookalike.worker")


def task_results_prune() -> int:
    """Delete finished (successful or failed) task results older than the setting; how many."""
    keep_s = max(
        settings.LOOKALIKE_TASK_RESULTS_KEEP_DAYS * 86400.0,
        *settings.LOOKALIKE_WORKER_SCHEDULE.values(),
    )
    old = DBTaskResult.objects.finished().filter(finished_at__lt=timezone.now() - timedelta(seconds=keep_s))
    deleted, _ = old.delete()
    logger.info("Deleted %d finished task results older than %.1f days", deleted, keep_s / 86400)
    return deleted


@task()
def task_results_prune_task() -> int:
    return task_results_prune()
