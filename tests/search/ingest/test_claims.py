"""Claiming queued tasks in batches with a lease (search/ingest/claims.py), on the test database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from search.ingest.claims import lease_renew, tasks_claim, tasks_retry_later, tasks_succeed
from search.tasks import image_sync_task

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queued(settings):
    settings.TASKS = QUEUE
    return [image_sync_task.enqueue(image_id=i).id for i in range(1, 8)]


def _claim(worker_id: str, limit: int = 3, lease_s: float = 60):  # type: ignore[no-untyped-def]
    return tasks_claim(worker_id=worker_id, limit=limit, lease_s=lease_s)


def test_a_claim_takes_the_oldest_ready_tasks_and_no_two_claims_share_one(queued):
    first, second, third = _claim("a"), _claim("b"), _claim("c")
    assert [str(i) for i in first.ids] == queued[:3]
    assert [str(i) for i in second.ids] == queued[3:6]
    assert [str(i) for i in third.ids] == queued[6:]
    assert _claim("d") is None
    running = DBTaskResult.objects.get(id=first.ids[0])
    assert running.status == TaskResultStatus.RUNNING and running.worker_ids == ["a"]


def test_a_dead_workers_tasks_are_claimed_again_once_its_lease_runs_out(queued):
    dead = _claim("dead", lease_s=30)
    assert _claim("live", lease_s=30).ids != dead.ids  # its tasks are still leased
    dead.leased_at -= timedelta(seconds=31)  # as if claimed 31 s ago
    DBTaskResult.objects.filter(id__in=dead.ids).update(started_at=dead.leased_at)

    taken_over = tasks_claim(worker_id="live", limit=7, lease_s=30)

    assert set(dead.ids) <= set(taken_over.ids)
    assert DBTaskResult.objects.get(id=dead.ids[0]).worker_ids == ["dead", "live"]
    # One claim, two histories: each task gets its own worker list, all the one lease.
    taken = {str(task.id): task for task in DBTaskResult.objects.filter(id__in=taken_over.ids)}
    assert {i: taken[str(i)].worker_ids for i in taken_over.ids} == {
        i: ["dead", "live"] if i in dead.ids else ["live"] for i in taken_over.ids
    }
    assert {(t.status, t.started_at) for t in taken.values()} == {("RUNNING", taken_over.leased_at)}
    # The presumed-dead worker comes back: its writes no longer count, the new owner's do.
    assert tasks_succeed(dead, dead.ids) == 0
    assert tasks_succeed(taken_over, dead.ids) == len(dead.ids)


def test_a_renewed_lease_keeps_the_tasks(queued):
    claim = _claim("slow", lease_s=30)
    claim.leased_at -= timedelta(seconds=29)  # as if claimed 29 s ago
    DBTaskResult.objects.filter(id__in=claim.ids).update(started_at=claim.leased_at)
    assert lease_renew(claim) == set(claim.ids)
    # Without the renewal, a lease of 28 s would have run out a second ago.
    assert not set(claim.ids) & set(tasks_claim(worker_id="other", limit=7, lease_s=28).ids)
    assert tasks_succeed(claim, claim.ids) == 3


def test_tasks_retried_later_wait_for_their_time(queued):
    claim = _claim("a", limit=7)
    tasks_retry_later(claim, claim.ids[:2], delay_s=60)
    assert _claim("b") is None  # back in the queue, but not before a minute
    DBTaskResult.objects.filter(id__in=claim.ids[:2]).update(run_after=timezone.now())
    again = _claim("b")
    assert set(again.ids) == set(claim.ids[:2])
    assert DBTaskResult.objects.get(id=again.ids[0]).status == TaskResultStatus.RUNNING
