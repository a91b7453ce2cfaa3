from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from insights.retention import events_expire


class Command(BaseCommand):
    help = (
        "Delete search events (with their clicks and thumbnails) and weekly product counts older than "
        "LOOKALIKE_INSIGHTS_RETENTION_DAYS, and thumbnails past LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS. "
        "Run daily (cron or the task worker's schedule)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="keep this many days instead of the setting"
        )

    def handle(self, *args, days: int | None, **options) -> None:
        retention_days = days if days is not None else settings.LOOKALIKE_INSIGHTS_RETENTION_DAYS
        expired = events_expire(retention_days=retention_days)
        self.stdout.write(
            f"Kept {retention_days} days: deleted {expired.events} events, {expired.thumbnails} "
            f"thumbnails, {expired.product_weeks} weekly product counts."
        )
