"""What recording searches costs: search latency with and without it, and the size of a million events.

    LOOKALIKE_NEO4J_INSTANCE=bench .venv/bin/python -m benchmarks.insights_recording [--dataset DIR] [--rounds 60]

1. Latency. The demo catalog is imported into a temporary SQLite database and the bench Neo4j (cleared).
   Each round sends, through Django's test Client (the whole request path), a photo search page POST (a
   held-out shop photo), an API search POST (the same photo), and a product page GET (its similar-items
   strip), once with recording off and once on, in alternating order, so both see the same machine load.
   Recording uses the production writer (a background thread). Prints p50 / p95 per path and mode.
2. Size. One million events are written through the real writer code (`events_write`) into a fresh SQLite
   file: 40% photo searches (12 results, a query sketch), 10% liked-product searches (12 results, sketch),
   50% similar-items strips (8 results); a fifth with filters. Prints bytes per event and the file size.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from benchmarks._setup import (
    SHOP_PHOTOS_PER_PRODUCT,
    arguments_with_dataset,
    database_migrate,
    demo_import,
    django_temp,
)

workdir = django_temp("insights-recording")

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from catalog.importers import grocery_store_query_photos  # noqa: E402
from catalog.models import Product  # noqa: E402
from insights.events import SearchRecord, event_id_new, events_write  # noqa: E402
from insights.models import SearchEvent  # noqa: E402
from insights.writer import records_flush  # noqa: E402

SIZE_EVENTS = 1_000_000
BATCH = 5000


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def latency(dataset: Path, rounds: int) -> None:
    queries = grocery_store_query_photos(dataset, shop_photos_per_product=SHOP_PHOTOS_PER_PRODUCT)
    photos = [path.read_bytes() for path, _ in random.Random(0).sample(queries, rounds)]
    products = list(Product.objects.order_by("pk"))
    staff = get_user_model().objects.create_superuser("bench", "b@example.com", "bench-only-password")
    token = Token.objects.create(user=staff).key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")  # staff: no anonymous search throttle

    def photo_page(photo: bytes) -> None:
        upload = SimpleUploadedFile("q.jpg", photo, content_type="image/jpeg")
        assert client.post("/search/", {"photo": upload}).status_code == 200

    def api_search(photo: bytes) -> None:
        upload = SimpleUploadedFile("q.jpg", photo, content_type="image/jpeg")
        assert client.post("/api/v1/search/", {"image": upload, "k": 12}).status_code == 200

    def product_page(product: Product) -> None:
        assert client.get(product.get_absolute_url()).status_code == 200

    paths = {"photo search page": photo_page, "API search": api_search, "product page (strip)": product_page}
    times: dict[tuple[str, bool], list[float]] = {(p, on): [] for p in paths for on in (False, True)}
    for warm in photos[:3]:  # model and connections warm
        photo_page(warm)
    for i, photo in enumerate(photos):
        for on in (False, True) if i % 2 == 0 else (True, False):
            with override_settings(LOOKALIKE_INSIGHTS_ENABLED=on, LOOKALIKE_INSIGHTS_WRITER="background"):
                for name, call in paths.items():
                    argument = products[i % len(products)] if name.startswith("product") else photo
                    start = time.perf_counter()
                    call(argument)
                    times[(name, on)].append((time.perf_counter() - start) * 1000)
    records_flush()
    print(f"{rounds} rounds, {SearchEvent.objects.count()} events recorded; load average {os.getloadavg()}\n")
    print("| path | recording off p50 / p95 ms | recording on p50 / p95 ms | p50 change |")
    print("|---|---|---|---|")
    for name in paths:
        off, on = times[(name, False)], times[(name, True)]
        change = (statistics.median(on) / statistics.median(off) - 1) * 100
        print(
            f"| {name} | {percentile(off, 50):.1f} / {percentile(off, 95):.1f} "
            f"| {percentile(on, 50):.1f} / {percentile(on, 95):.1f} | {change:+.1f}% |"
        )


def _synthetic(rng: np.random.Generator, when, product_ids: np.ndarray) -> SearchRecord:
    roll = rng.random()
    kind = "photo" if roll < 0.4 else "liked" if roll < 0.5 else "similar"
    count = 8 if kind == "similar" else 12
    ids = rng.choice(product_ids, count, replace=False)
    scores = np.sort(rng.uniform(0.3, 0.95, count))[::-1]
    vector = rng.standard_normal(1280).astype(np.float32) if kind != "similar" else None
    return SearchRecord(
        id=event_id_new(),
        created_at=when,
        kind=kind,
        interface="page" if rng.random() < 0.7 else "api",
        session_id=f"{rng.integers(2**63):016x}"[:16],
        model_version="efficientnet_lite0",
        filters={"category": "apple", "in_stock": True} if rng.random() < 0.2 else None,
        source_product_id=int(ids[0]) + 100_000 if kind == "similar" else None,
        results=[(int(p), float(s)) for p, s in zip(ids, scores, strict=True)],
        result_count=count,
        query_vector=vector / np.linalg.norm(vector) if vector is not None else None,
    )


def size(alias_note: str, total: int = SIZE_EVENTS) -> int:
    rng = np.random.default_rng(0)
    product_ids = np.arange(1, 10_001)  # a 10k-product catalog
    start = timezone.now() - timedelta(days=90)
    began = time.perf_counter()
    for batch in range(total // BATCH):
        when = start + timedelta(seconds=batch * 90 * 86400 / (total // BATCH))
        events_write([_synthetic(rng, when, product_ids) for _ in range(BATCH)])
    print(f"{alias_note}: {total:,} events written in {time.perf_counter() - began:.0f} s")
    return SearchEvent.objects.count()


def size_sqlite(total: int) -> None:
    path = Path(settings.DATABASES["default"]["NAME"])
    connection.close()
    before = path.stat().st_size
    count = size("SQLite", total)
    connection.close()
    after = path.stat().st_size
    print(
        f"SQLite file: +{(after - before) / 1e6:.0f} MB for {count:,} events "
        f"= {(after - before) / count:.0f} bytes per event (table, indexes and daily counts)"
    )


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-size", action="store_true")
    parser.add_argument("--size-events", type=int, default=SIZE_EVENTS)
    args = parser.parse_args()
    database_migrate()
    if not args.skip_latency:
        demo_import(args.dataset)
        latency(args.dataset, args.rounds)
    if not args.skip_size:
        size_sqlite(args.size_events)


if __name__ == "__main__":
    main()
