"""Staff write latency: a product and 3 photos through the API, with the queue against the immediate backend.

    DATABASE_URL=... LOOKALIKE_NEO4J_INSTANCE=bench .venv/bin/python -m benchmarks.ingestion_latency [--samples 20]

In process (DRF's test client, token auth, multipart uploads), on the database DATABASE_URL names (migrated
here) and the bench Neo4j. One sample is the four requests: POST /api/v1/products/, then three
POST /api/v1/products/{id}/images/. With the queue the photos are only stored and queued; with the immediate
backend each upload is embedded, written to Neo4j and its product's SIMILAR_TO refreshed inside the request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import django

DEFAULT_DATASET = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "grocery-store"
MODES = {
    "queue (database backend)": "django_tasks_db.DatabaseBackend",
    "immediate (in the request)": "django_tasks.backends.immediate.ImmediateBackend",
}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("LOOKALIKE_NEO4J_INSTANCE", "bench")
    django.setup()

    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import override_settings
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from catalog.models import ProductImage
    from catalog.services import category_get_or_create
    from search.embeddings import embedder_active

    call_command("migrate", "--noinput", verbosity=0)
    call_command("setup_graph", verbosity=0)
    embedder_active()  # loaded once, as in a running server
    staff = get_user_model().objects.create_user(
        "bench-staff", password="x", is_staff=True, is_superuser=True
    )
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    category = category_get_or_create(name="Benchmark").slug
    photos = [
        path.read_bytes()
        for path in sorted((args.dataset / "train").rglob("*.jpg"))[: 3 * (args.samples + 2)]
    ]

    def one_write(n: int) -> float:
        started = time.perf_counter()
        created = client.post(
            "/api/v1/products/",
            {"name": f"Latency {n}", "price": "1.00", "category": category},
            format="json",
        )
        assert created.status_code == 201, created.content
        for k in range(3):
            upload = SimpleUploadedFile(f"{n}-{k}.jpg", photos[(3 * n + k) % len(photos)], "image/jpeg")
            added = client.post(
                f"/api/v1/products/{created.data['id']}/images/", {"image": upload}, format="multipart"
            )
            assert added.status_code == 201, added.content
        return (time.perf_counter() - started) * 1000

    print(
        f"\nStaff write: a product and 3 photos through the API, {args.samples} samples each (load {os.getloadavg()})\n"
    )
    print("| task backend | p50 ms | p95 ms | photos synced when the response returned |")
    print("|---|---|---|---|")
    counter = 0
    for label, backend in MODES.items():
        with override_settings(TASKS={"default": {"BACKEND": backend}}):
            for _ in range(2):  # warm-up
                one_write(counter)
                counter += 1
            timings, synced = [], 0
            for _ in range(args.samples):
                timings.append(one_write(counter))
                counter += 1
                synced += ProductImage.objects.filter(
                    product__name=f"Latency {counter - 1}", sync_status="synced"
                ).count()
        print(
            f"| {label} | {statistics.median(timings):.0f} | {_percentile(timings, 0.95):.0f} | "
            f"{synced}/{3 * args.samples} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
