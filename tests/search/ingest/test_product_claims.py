"""Claiming image syncs by whole product (search/ingest/product_claims.py), on the test database."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from search.ingest import product_claims
from search.ingest.claims import tasks_succeed
from search.ingest.product_claims import image_syncs_claim, task_image_id
from search.tasks import image_sync_task, sync_deferred
from tests.factories import image_add_from_bytes, product_make

pytestmark = [pytest.mark.postgres]

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _products(**sizes: int) -> dict[str, list[int]]:
    """{product name: its image ids}; nothing queued yet (and nothing synced in-process)."""
    with sync_deferred():
        return {
            name: [image_add_from_bytes(product, b"not decoded here").pk for _ in range(size)]
            for name, size in sizes.items()
            for product in [product_make(name)]
        }


def _queue(*image_ids: int) -> None:
    for image_id in image_ids:
        image_sync_task.enqueue(image_id=image_id)


def _claimed(worker_id: str, limit: int, lease_s: float = 60) -> list[int] | None:
    claim = image_syncs_claim(worker_id=worker_id, limit=limit, lease_s=lease_s)
    return None if claim is None else [task_image_id(task) for task in claim.tasks]


@pytest.mark.django_db
def test_a_claim_takes_whole_products_and_skips_those_another_claim_holds(settings):
    settings.TASKS = QUEUE
    images = _products(A=3, B=2, C=4)
    a, b, c = images["A"], images["B"], images["C"]
    _queue(a[0], a[1], b[0], b[1], a[2], *c, 999_999)  # A's last photo queued after B's; an image gone

    assert _claimed("w1", limit=4) == a  # A whole; B would not fit beside it
    assert _claimed("w2", limit=4) == b  # A is held; C would not fit beside B
    assert _claimed("w3", limit=4) == c
    assert _claimed("w4", limit=4) == [999_999]  # its own group: the worker marks it done
    assert _claimed("w5", limit=4) is None


@pytest.mark.django_db
def test_a_product_larger_than_the_batch_goes_to_one_claim_at_a_time(settings):
    settings.TASKS = QUEUE
    images = _products(Big=5, Small=1)
    _queue(*images["Big"], *images["Small"])

    first = image_syncs_claim(worker_id="w1", limit=4, lease_s=60)
    assert [task_image_id(t) for t in first.tasks] == images["Big"][:4]
    assert _claimed("w2", limit=4) == images["Small"]  # not Big's fifth while w1 holds Big
    assert _claimed("w2", limit=4) is None
    tasks_succeed(first, first.ids)
    assert _claimed("w2", limit=4) == images["Big"][4:]


@pytest.mark.django_db
def test_a_dead_workers_product_is_claimable_again_once_its_lease_runs_out(settings):
    settings.TASKS = QUEUE
    images = _products(Big=5)
    _queue(*images["Big"])
    dead = image_syncs_claim(worker_id="dead", limit=4, lease_s=30)
    assert _claimed("live", limit=4, lease_s=30) is None  # held
    DBTaskResult.objects.filter(id__in=dead.ids).update(started_at=dead.leased_at - timedelta(seconds=31))

    assert sorted(_claimed("live", limit=8, lease_s=30)) == images["Big"]  # its four and the fifth


def test_two_claims_at_once_never_split_a_product(
    rows_kept_across_flush, transactional_db, settings, monkeypatch
):
    """Claim y looks which products are held, then pauses; claim x runs meanwhile. Without the claims taking
    turns, x takes Big's first four, and y, going on from what it saw, takes Big's fifth."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent claims: PostgreSQL")
    settings.TASKS = QUEUE
    images = _products(Big=5, Small=2)
    _queue(*images["Big"], *images["Small"])
    y_looked, x_done = threading.Event(), threading.Event()
    real = product_claims._siblings

    def siblings(image_ids):  # type: ignore[no-untyped-def]
        found = real(image_ids)
        if threading.current_thread().name == "y" and not y_looked.is_set():
            y_looked.set()
            x_done.wait(timeout=2)  # with turns, x waits for y instead: this times out
        return found

    monkeypatch.setattr(product_claims, "_siblings", siblings)
    claimed: dict[str, list[int] | None] = {}

    def claim(name: str) -> None:
        if name == "x":
            y_looked.wait(timeout=10)
        try:
            claimed[name] = _claimed(name, limit=4)
        finally:
            if name == "x":
                x_done.set()
            connection.close()

    threads = [threading.Thread(target=claim, args=(name,), name=name) for name in ("y", "x")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert claimed == {"y": images["Big"][:4], "x": images["Small"]}


@pytest.mark.django_db
def test_a_worker_told_to_exit_when_idle_waits_while_another_holds_the_last_products(settings, monkeypatch):
    from search.ingest import worker as worker_module
    from search.ingest.worker import SyncWorker

    settings.TASKS = QUEUE
    settings.LOOKALIKE_WORKER_SCHEDULE = {}
    images = _products(Last=2)
    _queue(*images["Last"])
    holder = image_syncs_claim(worker_id="holder", limit=4, lease_s=60)
    assert holder is not None
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the idle worker's wait: the holder finishes during the second one
        waits.append(seconds)
        if len(waits) == 2:
            tasks_succeed(holder, holder.ids)

    monkeypatch.setattr(worker_module, "time", SimpleNamespace(sleep=sleep, perf_counter=time.perf_counter))
    monkeypatch.setattr(worker_module, "close_old_connections", lambda: None)  # the test's transaction stays
    SyncWorker(worker_id="idle", batch_size=4, lease_s=60, idle_sleep_s=0.5).run(exit_when_idle=True)

    assert waits == [0.5, 0.5]  # nothing to claim, but it stayed until the held products were done
