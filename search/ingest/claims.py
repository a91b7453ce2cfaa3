"""Claiming queued tasks in batches, with a lease, so a dead worker's work is taken up again.

django-tasks' database backend marks a task RUNNING when a worker takes it and leaves it so forever if
that worker dies (SIGKILL, a lost machine: upstream issue django-tasks#46). Here a claim is a lease: the
claim time is written to the task's `started_at` (django-tasks reports it as `last_attempted_at`), a live
worker renews it while it works, and a RUNNING task whose lease is older than `lease_s` is claimable
again. Every later write by the claimant is conditional on its lease, so a worker that was presumed
dead but comes back cannot overwrite the result of the worker that took its tasks over.

On PostgreSQL, `SELECT ... FOR UPDATE SKIP LOCKED` lets any number of workers claim side by side without
waiting for each other; SQLite serialises claims with an exclusive transaction. Image syncs are claimed by
product instead (search/ingest/product_claims.py), and those claims take turns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction

logger = logging.getLogger("lookalike.worker")


@dataclass
class Claim:
    """Tasks one worker holds, and the lease stamp that proves it still holds them."""

    worker_id: str
    tasks: list[DBTaskResult]
    leased_at: datetime

    @property
    def ids(self) -> list:
        return [task.id for task in self.tasks]


def _ready(now: datetime) -> Q:
    return Q(status=TaskResultStatus.READY) & (Q(run_after=get_date_max()) | Q(run_after__lte=now))


def _lease_expired(now: datetime, lease_s: float) -> Q:
    return Q(status=TaskResultStatus.RUNNING, started_at__lt=now - timedelta(seconds=lease_s))


def claimable(*, now: datetime, lease_s: float) -> Q:
    """Ready to run, or RUNNING under a lease that ran out (its worker presumed dead)."""
    return _ready(now) | _lease_expired(now, lease_s)


def claimable_locked(
    queued: QuerySet[DBTaskResult], *, now: datetime, lease_s: float, limit: int
) -> list[DBTaskResult]:
    """The first `limit` claimable tasks of `queued` in queue order (highest priority, then oldest), locked
    FOR UPDATE, skipping rows another claim has locked. Two queries rather than one with `claimable`'s OR:
    the ready tasks walk the queue-order index of READY rows and the lease-expired ones the index of RUNNING
    rows by lease (search/migrations/_task_indexes.py), so a claim reads about `limit` rows however long the
    queue and however many finished tasks the table keeps (docs/benchmarks.md, "Ingestion through the
    queue")."""
    ready = list(queued.filter(_ready(now)).select_for_update(skip_locked=True)[:limit])
    expired = list(queued.filter(_lease_expired(now, lease_s)).select_for_update(skip_locked=True)[:limit])
    if not expired:
        return ready
    in_queue_order = sorted(
        ready + expired, key=lambda task: (-task.priority, task.run_after, task.enqueued_at)
    )
    return in_queue_order[:limit]


def tasks_take(tasks: list[DBTaskResult], *, worker_id: str, now: datetime) -> Claim | None:
    """Mark tasks selected FOR UPDATE in the caller's transaction as this worker's, leased from `now`."""
    # One UPDATE per distinct list of earlier workers (nearly always one: none), not bulk_update's CASE per
    # task and field, whose expressions cost ~10 ms of the worker's CPU per claim of 25 (docs/benchmarks.md).
    by_workers: dict[tuple[str, ...], list] = {}
    for task in tasks:
        task.status = TaskResultStatus.RUNNING
        task.started_at = now
        task.worker_ids = [*task.worker_ids, worker_id]
        by_workers.setdefault(tuple(task.worker_ids), []).append(task.id)
    for worker_ids, ids in by_workers.items():
        DBTaskResult.objects.filter(id__in=ids).update(
            status=TaskResultStatus.RUNNING, started_at=now, worker_ids=list(worker_ids)
        )
    return Claim(worker_id=worker_id, tasks=tasks, leased_at=now) if tasks else None


def tasks_claim(
    *,
    worker_id: str,
    limit: int,
    lease_s: float,
    backend_name: str = "default",
    task_paths: Sequence[str] = (),
    exclude_task_paths: Sequence[str] = (),
) -> Claim | None:
    """Take up to `limit` ready (or lease-expired) tasks, highest priority and oldest first."""
    now = timezone.now()
    queued = DBTaskResult.objects.filter(backend_name=backend_name)
    if task_paths:
        queued = queued.filter(task_path__in=task_paths)
    if exclude_task_paths:
        queued = queued.exclude(task_path__in=exclude_task_paths)
    # A look first, outside a transaction and locking nothing: a worker asks for deletes and edits before
    # every batch, and during an import there are none (one query instead of a transaction of three, and on
    # SQLite no write lock taken for nothing).
    if not queued.filter(claimable(now=now, lease_s=lease_s)).exists():
        return None
    with exclusive_transaction():
        return tasks_take(
            claimable_locked(queued, now=now, lease_s=lease_s, limit=limit), worker_id=worker_id, now=now
        )


def tasks_unfinished_exist(*, task_paths: Sequence[str] | None = None, backend_name: str = "default") -> bool:
    """Any task (of these paths, if given) queued (ready now or later) or running, whoever holds it."""
    unfinished = DBTaskResult.objects.filter(
        backend_name=backend_name, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    )
    if task_paths is not None:
        unfinished = unfinished.filter(task_path__in=list(task_paths))
    return unfinished.exists()


def _still_held(claim: Claim, ids: Iterable | None = None):
    return DBTaskResult.objects.filter(
        id__in=claim.ids if ids is None else list(ids),
        status=TaskResultStatus.RUNNING,
        started_at=claim.leased_at,
    )


def lease_renew(claim: Claim) -> set:
    """Extend the lease; returns the ids still held (others were taken over after the lease ran out)."""
    now = timezone.now()
    held = set(_still_held(claim).values_list("id", flat=True))
    _still_held(claim, held).update(started_at=now)
    claim.leased_at = now
    claim.tasks = [task for task in claim.tasks if task.id in held]
    return held


@contextmanager
def lease_kept(claim: Claim, *, every_s: float) -> Iterator[None]:
    """Renew the claim's lease every `every_s` from a background thread while the block runs (the model and
    Neo4j can take longer than a lease on a busy machine). Stopped before the block's results are written."""
    stop = threading.Event()

    def renew() -> None:
        try:
            while not stop.wait(every_s):
                try:
                    lease_renew(claim)
                except Exception:
                    # A dropped connection or a database restarting: try again at the next beat, on a new
                    # connection. A heartbeat that stopped would let the lease run out under a live worker.
                    logger.warning("Lease renewal failed; retrying in %.0f s", every_s, exc_info=True)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection

    heartbeat = threading.Thread(target=renew, name="lease-heartbeat", daemon=True)
    heartbeat.start()
    try:
        yield
    finally:
        stop.set()
        heartbeat.join()


def tasks_succeed(claim: Claim, ids: Sequence, *, return_value: object = None) -> int:
    return _still_held(claim, ids).update(
        status=TaskResultStatus.SUCCESSFUL,
        finished_at=timezone.now(),
        return_value=return_value,
        exception_class_path="",
        traceback="",
    )


def tasks_fail(claim: Claim, ids: Sequence, *, exception_class_path: str, message: str) -> int:
    return _still_held(claim, ids).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path=exception_class_path,
        traceback=message,
    )


def tasks_retry_later(claim: Claim, ids: Sequence, *, delay_s: float) -> int:
    """Back to the queue, to run no sooner than `delay_s` from now (e.g. while Neo4j is down)."""
    return _still_held(claim, ids).update(
        status=TaskResultStatus.READY,
        started_at=None,
        run_after=timezone.now() + timedelta(seconds=delay_s),
    )
