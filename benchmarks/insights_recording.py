"""What recording searches costs: search latency with and without it (the size: benchmarks/insights_size.py).

    LOOKALIKE_NEO4J_INSTANCE=bench .venv/bin/python -m benchmarks.insights_recording [--dataset DIR] [--rounds 60]

1. Latency. The demo catalog is imported into a temporary SQLite database and the bench Neo4j (cleared).
   Each round sends, through Django's test Client (the whole request path), a photo search page POST (a
   held-out shop photo), an API search POST (the same photo), and a product page GET (its similar-items
   strip), once with recording off and once on, in alternating order, so both see the same machine load.
   Recording uses the production writer (a background thread). Prints p50 / p95 per path and mode.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks._setup import (
    SHOP_PHOTOS_PER_PRODUCT,
    arguments_with_dataset,
    database_migrate,
    demo_import,
    django_temp,
    postgres_temp_database,
)

# --postgres: the database the app runs on in production, where the writer's commits never block reads.
_on_postgres = "--postgres" in sys.argv
if _on_postgres:
    postgres_temp_database()
workdir = django_temp("insights-recording", keep_database_url=_on_postgres)

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from catalog.importers import grocery_store_query_photos  # noqa: E402
from catalog.models import Product  # noqa: E402
from insights.models import SearchEvent  # noqa: E402
from insights.writer import records_flush  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def latency(dataset: Path, rounds: int) -> None:
    queries = grocery_store_query_photos(dataset, shop_photos_per_product=SHOP_PHOTOS_PER_PRODUCT)
    photos = [path.read_bytes() for path, _ in random.Random(0).sample(queries, rounds)]
    products = list(Product.objects.order_by("pk"))
    staff = get_user_model().objects.create_superuser("bench", "b@example.com", "bench-only-password")
    token = Token.objects.create(user=staff).key
    client = Client(
        HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1"
    )  # staff: no anonymous search throttle

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
    print(
        f"{rounds} rounds on {connection.vendor}, writer gathering {settings.LOOKALIKE_INSIGHTS_GATHER_S} s, "
        f"{SearchEvent.objects.count()} events recorded; load average {os.getloadavg()}\n"
    )
    print("| path | recording off p50 / p95 ms | recording on p50 / p95 ms | p50 change |")
    print("|---|---|---|---|")
    for name in paths:
        off, on = times[(name, False)], times[(name, True)]
        change = (statistics.median(on) / statistics.median(off) - 1) * 100
        print(
            f"| {name} | {percentile(off, 50):.1f} / {percentile(off, 95):.1f} "
            f"| {percentile(on, 50):.1f} / {percentile(on, 95):.1f} | {change:+.1f}% |"
        )


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--postgres", action="store_true", help="a throwaway database in the local cluster")
    args = parser.parse_args()
    database_migrate()
    demo_import(args.dataset)
    latency(args.dataset, args.rounds)


if __name__ == "__main__":
    main()
