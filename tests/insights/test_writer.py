from __future__ import annotations

import threading

from django.db import OperationalError
from django.utils import timezone

from insights import writer
from insights.events import SearchRecord, event_id_new
from insights.models import SearchEvent


def _record(product_id: int = 1) -> SearchRecord:
    return SearchRecord(
        id=event_id_new(),
        created_at=timezone.now(),
        kind="similar",
        interface="page",
        session_id="",
        model_version="m",
        filters=None,
        source_product_id=product_id,
        results=[(2, 0.9)],
        result_count=1,
    )


def test_the_background_writer_stores_events_after_the_request(rows_kept_across_flush, transactional_db):
    # The writer's thread has its own connection: the events must be committed, hence a transactional test.
    background = writer.BackgroundWriter(size=100)
    for _ in range(30):
        background.submit(_record())
    background.flush()
    assert SearchEvent.objects.count() == 30


def test_a_full_queue_drops_events_without_blocking_or_raising(monkeypatch):
    writing, release = threading.Event(), threading.Event()

    def hanging_store(records):  # type: ignore[no-untyped-def]
        writing.set()
        release.wait(5)

    monkeypatch.setattr(writer, "events_write", hanging_store)
    background = writer.BackgroundWriter(size=2)
    before = writer.drops.dropped
    background.submit(_record())
    assert writing.wait(5)  # the thread holds that one, stuck in the store
    for _ in range(9):
        background.submit(_record())  # returns at once even though nothing can be written
    # The queue takes two; the other seven are dropped (waiting for the thread first makes the count exact).
    assert writer.drops.dropped - before == 7
    release.set()
    background.flush()


def test_a_failing_store_drops_the_batch_and_the_writer_carries_on(monkeypatch):
    calls = []

    def failing(records):
        calls.append(len(records))
        raise OperationalError("connection refused")

    monkeypatch.setattr(writer, "events_write", failing)
    background = writer.BackgroundWriter(size=10)
    background.submit(_record())
    background.flush()
    background.submit(_record())
    background.flush()
    assert len(calls) == 2  # the thread survived the first failure
