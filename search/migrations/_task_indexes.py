"""Indexes on django-tasks-db's task table for the worker's claims (search/migrations/0006).

The table is the package's, so these are plain SQL in our own migration. The package indexes the READY tasks in
queue order; a claim also asks, and without these read every row of the table for it (the queue and every
finished task, which the table keeps):
- `lookalike_task_running` (both databases): RUNNING tasks by lease stamp, for "which products are held" and
  "whose lease ran out" (search/ingest/claims.py, claimable_locked).
- `lookalike_task_image_id` (PostgreSQL): an image sync's image id inside the task's JSON, `args_kwargs #>
  '{kwargs,image_id}'`, exactly the expression Django writes for `args_kwargs__kwargs__image_id` there: a
  claim's "the other queued syncs of these products" and the deferral's "is another image of it queued".
- `lookalike_task_ready_other` (PostgreSQL): READY tasks other than image syncs, in queue order, for the
  worker's "deletes and edits first" claim, which otherwise walks past every queued image sync.
SQLite (`make run`, one machine, a demo-sized queue) gets the first only: its JSON lookups carry bound parameters
inside the expression, which no index expression matches, and a partial index's condition must be a literal.
"""

from __future__ import annotations

TABLE = "django_tasks_database_dbtaskresult"
IMAGE_SYNC_TASK_PATH = "search.tasks.image_sync_task"


def create_sql(vendor: str) -> list[str]:
    statements = [f"CREATE INDEX IF NOT EXISTS lookalike_task_running ON {TABLE} (status, started_at)"]
    if vendor == "postgresql":
        statements += [
            f"CREATE INDEX IF NOT EXISTS lookalike_task_image_id ON {TABLE} "
            "((args_kwargs #> '{kwargs,image_id}'::text[]))",
            f"CREATE INDEX IF NOT EXISTS lookalike_task_ready_other ON {TABLE} "
            f"(priority DESC, run_after, enqueued_at) WHERE status = 'READY' AND task_path <> '{IMAGE_SYNC_TASK_PATH}'",
        ]
    return statements


def drop_sql() -> list[str]:
    return [
        f"DROP INDEX IF EXISTS {name}"
        for name in ("lookalike_task_ready_other", "lookalike_task_image_id", "lookalike_task_running")
    ]
