"""How image claims scale with the task table: queued syncs (an import's queue) and finished tasks (history).

    scripts/postgres start
    .venv/bin/python -m benchmarks.claim_scan [--cases 10000:0,10000:200000,200000:0] [--claims 20]

For each case (queued:finished), the worker's claim of other tasks (deletes, edits: none queued) and: a fresh database `lookalike_claims` on the local PostgreSQL, migrated; products
of 30 images each (rows only, no files) with one READY `image_sync_task` per image, plus `finished` SUCCESSFUL
image syncs of other images (the history a queue keeps). Then `--claims` image claims of 32 (whole products,
search/ingest/product_claims.py), each followed by what a worker does with them in the database: the deferral
check (search/ingest/deferral.py), a lease renewal and marking them SUCCESSFUL. Median and p90 ms of each, with
the indexes of search/migrations/0006 and without them (dropped for that half). Not timed by CPU: run it alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial

import psycopg

BENCH_DB = "lookalike_claims"
IMAGES_PER_PRODUCT = 30


def _admin_url() -> str:
    from benchmarks.ingestion import _admin_url as url

    return url()


def _database_recreate() -> str:
    with psycopg.connect(f"{_admin_url()}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")
    return f"{_admin_url()}/{BENCH_DB}"


def _fill(queued: int, finished: int) -> None:
    from django.db import connection

    products = (queued + finished + IMAGES_PER_PRODUCT - 1) // IMAGES_PER_PRODUCT
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO catalog_category (name, slug) VALUES ('c', 'c') RETURNING id")
        (category,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO catalog_product (name, slug, description, price, category_id, in_stock, created_at, "
            "updated_at) SELECT 'p' || n, 'p' || n, '', 1, %s, true, now(), now() "
            "FROM generate_series(1, %s) n",
            [category, products],
        )
        cursor.execute(
            "INSERT INTO catalog_productimage (product_id, image, position, content_hash, sync_status, "
            "sync_error, embedding_model) SELECT p.id, 'x.jpg', s, '', 'pending', '', '' "
            "FROM catalog_product p, generate_series(1, %s) s ORDER BY p.id, s",
            [IMAGES_PER_PRODUCT],
        )
        # The oldest images' syncs are history (SUCCESSFUL); the rest are the queue, in image order.
        cursor.execute(
            "INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at, started_at, finished_at, "
            "args_kwargs, priority, task_path, worker_ids, queue_name, backend_name, run_after, return_value, "
            "exception_class_path, traceback) "
            "SELECT gen_random_uuid(), CASE WHEN n <= %s THEN 'SUCCESSFUL' ELSE 'READY' END, "
            "now() - interval '1 day' + n * interval '1 millisecond', "
            "CASE WHEN n <= %s THEN now() - interval '1 day' END, CASE WHEN n <= %s THEN now() END, "
            "jsonb_build_object('args', '[]'::jsonb, 'kwargs', jsonb_build_object('image_id', i.id)), 0, "
            "'search.tasks.image_sync_task', '[]'::jsonb, 'default', 'default', '9999-01-01 00:00:00+00', "
            "NULL, '', '' "
            "FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM catalog_productimage) i "
            "WHERE n <= %s",
            [finished, finished, finished, queued + finished],
        )
        cursor.execute("ANALYZE")


def _timed(samples: dict[str, list[float]], name: str, func):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = func()
    samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    return result


def _claims(count: int) -> dict[str, list[float]]:
    from catalog.models import ProductImage
    from search.ingest.claims import lease_renew, tasks_claim, tasks_succeed
    from search.ingest.deferral import products_with_queued_images
    from search.ingest.product_claims import image_syncs_claim, task_image_id

    samples: dict[str, list[float]] = {}
    for _ in range(count):
        # The worker's first claim of each step: a task other than an image sync (none queued here).
        _timed(
            samples,
            "other tasks' claim",
            partial(
                tasks_claim,
                worker_id="w",
                limit=1,
                lease_s=120,
                exclude_task_paths=["search.tasks.image_sync_task"],
            ),
        )
        claim = _timed(samples, "claim", partial(image_syncs_claim, worker_id="w", limit=32, lease_s=120))
        images = {task_image_id(task) for task in claim.tasks}
        products = set(ProductImage.objects.filter(pk__in=images).values_list("product_id", flat=True))
        _timed(samples, "deferral check", partial(products_with_queued_images, products, images))
        _timed(samples, "lease renew", partial(lease_renew, claim))
        _timed(samples, "succeed", partial(tasks_succeed, claim, claim.ids))
        ProductImage.objects.filter(pk__in=images).update(sync_status="synced")
    return samples


def _plans() -> None:
    """How PostgreSQL reads the task table for one round of the worker's queries (scan nodes only)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        _claims(1)
    for query in queries.captured_queries:
        sql = query["sql"]
        if not sql.startswith("SELECT") or "dbtaskresult" not in sql:
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            scans = [
                row[0].strip().removeprefix("->  ").split("  (")[0]
                for row in cursor.fetchall()
                if "Scan" in row[0]
                and "dbtaskresult" in row[0]
                or "lookalike_task" in row[0]
                or "tasks_db" in row[0]
            ]
        print(f"    {sql[:90]}...: {'; '.join(scans)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default="10000:0,10000:200000,200000:0", help="queued:finished, ...")
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--plans", action="store_true", help="print how each task-table query is read")
    args = parser.parse_args()
    url = _database_recreate()
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "benchmark-only-not-secret",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from search.migrations import _task_indexes as task_indexes

    for case in args.cases.split(","):
        queued, finished = (int(v) for v in case.split(":"))
        connection.close()
        _database_recreate()
        call_command("migrate", verbosity=0)
        _fill(queued, finished)
        for indexed in (False, True):
            with connection.cursor() as cursor:
                for sql in task_indexes.create_sql("postgresql") if indexed else task_indexes.drop_sql():
                    cursor.execute(sql)
                cursor.execute("ANALYZE django_tasks_database_dbtaskresult")
            samples = _claims(args.claims)
            parts = ", ".join(
                f"{name} {statistics.median(values):.1f} / {sorted(values)[int(len(values) * 0.9)]:.1f}"
                for name, values in samples.items()
            )
            print(
                f"queued {queued:>7}, finished {finished:>7}, indexes {'on ' if indexed else 'off'}: "
                f"ms median / p90: {parts}",
                flush=True,
            )
            if args.plans:
                _plans()


if __name__ == "__main__":
    main()
