"""How much room the search event log takes: a million events must fit in well under a gigabyte (issue 14).

    python -m benchmarks.insights_size [--events 200000] [--postgres]

Events are written through the real writer code (`events_write`, batches of 500 as the background writer
makes them) into a fresh database: SQLite (a new file), or with --postgres a new database in the local
cluster (`scripts/postgres start`; dropped afterwards). Sizes include every table and index of the app
(events, weekly product counts, the indexes of both).

The traffic is a shop's, not noise: a 10k-product catalog in 100 categories, each product with 24 fixed
nearest neighbours in its category (as SIMILAR_TO and the vector index give); pages and searches land on
products with Zipf popularity (s = 1). 40% photo searches (the 12 results are a popular product's
neighbourhood; 1,280-d query vector), 10% liked-product searches (the neighbourhoods of 1-3 liked
products), 50% similar-items strips (the source's 8 neighbours); 30% through the API, a fifth with filters.

The events are spread in time at the density of a million over 90 days (the retention default): N events
over 90 * N / 1M days, from a Monday. Every week of the sample then holds what a week of the million holds,
so the million is the sample times 1M / N (the last, partial week of the sample has fewer events per
row than a full one: the extrapolation errs high). `--uniform` draws every result at random instead
(the worst case for the weekly counts; what the previous version of this benchmark measured).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta

import numpy as np

MILLION = 1_000_000
SPAN_DAYS_PER_MILLION = 90
CATALOG, CATEGORIES, NEIGHBOURS = 10_000, 100, 24
BATCH = 500  # insights.writer.BATCH_MAX


class Traffic:
    def __init__(self, rng: np.random.Generator, *, uniform: bool) -> None:
        self.rng, self.uniform = rng, uniform
        self.ids = rng.permutation(np.arange(1, CATALOG + 1))  # ids[i] is the i-th most popular product
        weights = 1.0 / np.arange(1, CATALOG + 1)
        self.popularity = weights / weights.sum()
        category = rng.integers(0, CATEGORIES, CATALOG)
        members = {c: np.flatnonzero(category == c) for c in range(CATEGORIES)}
        # neighbours[i]: 24 other products of product i's category, nearest first (fixed, as the graph's are)
        self.neighbours = [
            rng.choice(members[c][members[c] != i], NEIGHBOURS, replace=False) for i, c in enumerate(category)
        ]

    def popular(self) -> int:
        return int(self.rng.choice(CATALOG, p=self.popularity))

    def results(self, kind: str) -> tuple[np.ndarray, int | None]:
        """Product ids shown, best first, and the source product of a strip (None for searches)."""
        count = 8 if kind == "similar" else 12
        if kind == "similar":
            source = self.popular()
            if self.uniform:
                return self.rng.choice(self.ids, count, replace=False), int(self.ids[source])
            return self.ids[self.neighbours[source][:count]], int(self.ids[source])
        if self.uniform:
            return self.rng.choice(self.ids, count, replace=False), None
        if kind == "photo":
            target = self.popular()
            return self.ids[np.concatenate([[target], self.neighbours[target][: count - 1]])], None
        liked = [self.popular() for _ in range(int(self.rng.integers(1, 4)))]
        pooled = list(dict.fromkeys(int(n) for i in liked for n in self.neighbours[i] if n not in liked))
        return self.ids[pooled[:count]], None


def _record(traffic: Traffic, when: datetime):
    from insights.events import SearchRecord, event_id_new

    rng = traffic.rng
    roll = rng.random()
    kind = "photo" if roll < 0.4 else "liked" if roll < 0.5 else "similar"
    ids, source = traffic.results(kind)
    scores = np.sort(rng.uniform(0.3, 0.95, len(ids)))[::-1]
    vector = rng.standard_normal(1280).astype(np.float32) if kind != "similar" else None
    return SearchRecord(
        id=event_id_new(),
        created_at=when,
        kind=kind,
        interface="page" if rng.random() < 0.7 else "api",
        session_id=f"{rng.integers(2**63):016x}",
        model_version="efficientnet_lite0__p3",
        filters={"category": "apples", "in_stock": True} if rng.random() < 0.2 else None,
        source_product_id=source,
        results=[(int(p), float(s)) for p, s in zip(ids, scores, strict=True)],
        result_count=len(ids),
        query_vector=vector / np.linalg.norm(vector) if vector is not None else None,
    )


def _sizes() -> dict[str, int]:
    """Bytes per table and index of the insights app."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE '%insights%' OR name LIKE 'product_week%' "
                "GROUP BY name"
            )
        else:
            cursor.execute(
                "SELECT c.relname, pg_relation_size(c.oid) + COALESCE(pg_total_relation_size(c.reltoastrelid), 0) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') "
                "AND (c.relname LIKE '%insights%' OR c.relname LIKE 'product_week%' OR c.relname LIKE 'click_once%')"
            )
        return dict(cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--uniform", action="store_true", help="results drawn at random (worst case)")
    args = parser.parse_args()
    from benchmarks._setup import database_migrate, django_temp, postgres_temp_database

    if args.postgres:
        postgres_temp_database()
    django_temp("insights-size", keep_database_url=args.postgres)
    database_migrate()
    from django.db import connection

    from insights.events import events_write
    from insights.models import ProductWeek, SearchEvent

    traffic = Traffic(np.random.default_rng(0), uniform=args.uniform)
    span = timedelta(days=SPAN_DAYS_PER_MILLION * args.events / MILLION)
    start = datetime(2026, 8, 3, tzinfo=UTC)  # a Monday
    began = time.perf_counter()
    batches = args.events // BATCH
    for batch in range(batches):
        # Every event its own time (a shared one would flatter PostgreSQL's deduplicating B-tree index).
        events_write(
            [_record(traffic, start + span * (batch * BATCH + i) / args.events) for i in range(BATCH)]
        )
    elapsed = time.perf_counter() - began
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # sizes as a settled table has them (free space map, visibility)
    events, weeks = SearchEvent.objects.count(), ProductWeek.objects.count()
    sizes = _sizes()
    total = sum(sizes.values())
    scale = MILLION / events
    print(
        f"{connection.vendor}, {'uniform' if args.uniform else 'shop'} traffic: {events:,} events over "
        f"{span.days} days written in {elapsed:.0f} s ({events / elapsed:.0f}/s); {weeks:,} weekly product rows; "
        f"load average {os.getloadavg()}\n"
    )
    print("| table or index | MB | bytes per event | x 1M / N, MB |")
    print("|---|---|---|---|")
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"| {name} | {size / 1e6:.1f} | {size / events:.0f} | {size * scale / 1e6:.0f} |")
    print(f"| **all** | **{total / 1e6:.1f}** | **{total / events:.0f}** | **{total * scale / 1e6:.0f}** |")


if __name__ == "__main__":
    main()
