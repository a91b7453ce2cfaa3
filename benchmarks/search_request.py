"""Search by photo end to end: POST /api/v1/search/ with a 1000x1000 JPEG, k=10.

    LOOKALIKE_NEO4J_INSTANCE=bench .venv/bin/python -m benchmarks.search_request [--dataset DIR] [--requests 120]

The demo catalog is imported into a temporary SQLite database and the bench Neo4j (cleared). Queries are
held-out shop photos, centre-cropped and resized to 1000x1000 with Pillow, saved as JPEG quality 90.
Each is POSTed (multipart, encoded beforehand) once through Django's test Client in this process (the
whole Django request path: middleware, token auth, multipart parsing, validation, decode, embed, Neo4j,
ORM, JSON) and once over HTTP to a real server (gunicorn, one sync worker, if installed; else
`manage.py runserver --noreload`) on 127.0.0.1 with urllib. Requests authenticate with a staff user's
token, so the anonymous search throttle does not apply. The parts are then timed separately in process
on the same photos. Prints Markdown tables of p50/p95 latency and the breakdown.
"""

from __future__ import annotations

import importlib.util
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from benchmarks._setup import (
    SHOP_PHOTOS_PER_PRODUCT,
    arguments_with_dataset,
    database_migrate,
    demo_import,
    django_temp,
)

django_temp("search-request")

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.client import encode_multipart  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from catalog.importers import grocery_store_query_photos  # noqa: E402
from catalog.selectors import products_by_ids_in_order  # noqa: E402
from search.embeddings import image_decode  # noqa: E402
from search.graph.base import ProductFilter  # noqa: E402
from search.serving import embedder_serving, serving_model  # noqa: E402
from search.similarity import _nearest_product_hits  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
URL = "/api/v1/search/"
K = 10
SIDE_PX = 1000
JPEG_QUALITY = 90
BOUNDARY = "LookalikeBenchmarkBoundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
WARM_UP = 5
HOST = "127.0.0.1"


def query_jpeg(path: Path) -> bytes:
    with Image.open(path) as photo:
        square = ImageOps.fit(
            ImageOps.exif_transpose(photo).convert("RGB"), (SIDE_PX, SIDE_PX), Image.Resampling.LANCZOS
        )
    out = io.BytesIO()
    square.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def query_photos(dataset: Path, count: int) -> list[bytes]:
    """`count` held-out shop photos spread over all classes, as 1000x1000 JPEGs."""
    photos = grocery_store_query_photos(dataset, shop_photos_per_product=SHOP_PHOTOS_PER_PRODUCT)
    return [query_jpeg(path) for path, _ in photos[:: max(len(photos) // count, 1)][:count]]


def multipart(jpeg: bytes) -> bytes:
    return encode_multipart(
        BOUNDARY, {"image": SimpleUploadedFile("query.jpg", jpeg, "image/jpeg"), "k": str(K)}
    )


def staff_token() -> str:
    user = get_user_model().objects.create_user("bench", password=None, is_staff=True)
    return Token.objects.create(user=user).key


def percentiles_ms(samples_s: list[float]) -> tuple[float, float]:
    ms = np.array(samples_s) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def timed(send, bodies: list[bytes]) -> list[float]:
    for body in bodies[:WARM_UP]:
        send(body)
    times = []
    for body in bodies:
        started = time.perf_counter()
        send(body)
        times.append(time.perf_counter() - started)
    return times


def client_sender(token: str):
    client = Client(SERVER_NAME=HOST, HTTP_AUTHORIZATION=f"Token {token}")

    def send(body: bytes) -> None:
        response = client.post(URL, data=body, content_type=CONTENT_TYPE)
        assert response.status_code == 200 and len(response.json()["results"]) == K, response.content[:300]

    return send


def http_sender(port: int, token: str):
    def send(body: bytes) -> None:
        request = urllib.request.Request(
            f"http://{HOST}:{port}{URL}",
            data=body,
            method="POST",
            headers={"Content-Type": CONTENT_TYPE, "Authorization": f"Token {token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200 and response.read().count(b'"product"') == K

    return send


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_start(port: int) -> tuple[subprocess.Popen, str]:
    if importlib.util.find_spec("gunicorn"):
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "1",
            "--bind",
            f"{HOST}:{port}",
            "config.wsgi:application",
        ]
        name = "gunicorn, 1 sync worker"
    else:
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"{HOST}:{port}"]
        name = "runserver --noreload"
    server = subprocess.Popen(
        command, cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return server, name
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{name} did not listen on {HOST}:{port} within 60 s")


def parts_timed(jpegs: list[bytes]) -> dict[str, list[float]]:
    """The request's steps one by one, as search_by_image runs them."""
    embedder = embedder_serving()
    model = serving_model()
    parts: dict[str, list[float]] = {
        "decode + preprocess": [],
        "model": [],
        "graph query": [],
        "ORM (products by id)": [],
    }
    for jpeg in jpegs[:WARM_UP] + jpegs:
        t0 = time.perf_counter()
        image = image_decode(io.BytesIO(jpeg), max_pixels=settings.LOOKALIKE_MAX_IMAGE_PIXELS)
        batch = embedder.preprocess(image).unsqueeze(0)
        t1 = time.perf_counter()
        with torch.inference_mode():
            features = embedder.model(batch).numpy()[0]
        vector = features / np.linalg.norm(features)
        t2 = time.perf_counter()
        hits = _nearest_product_hits(vector, need=K, model=model, where=ProductFilter(), min_score=None)
        t3 = time.perf_counter()
        products_by_ids_in_order([hit.product_id for hit in hits])
        t4 = time.perf_counter()
        for name, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=False):
            parts[name].append(seconds)
    return {name: samples[WARM_UP:] for name, samples in parts.items()}


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument(
        "--requests", type=int, default=120, help="timed requests per path, each a different photo"
    )
    args = parser.parse_args()
    database_migrate()
    demo_import(args.dataset)
    token = staff_token()
    jpegs = query_photos(args.dataset, args.requests)
    bodies = [multipart(jpeg) for jpeg in jpegs]
    print(
        f"\n{len(jpegs)} query photos, {SIDE_PX}x{SIDE_PX} JPEG q{JPEG_QUALITY}, mean {np.mean([len(j) for j in jpegs]) / 1024:.0f} KiB; "
        f"backbone {serving_model()}, torch threads {torch.get_num_threads()}\n"
    )

    in_process = timed(client_sender(token), bodies)
    port = free_port()
    server, server_name = server_start(port)
    try:
        over_http = timed(http_sender(port, token), bodies)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("| path | requests | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for name, samples in (
        ("Django test Client, in process", in_process),
        (f"HTTP: {server_name}, urllib", over_http),
    ):
        p50, p95 = percentiles_ms(samples)
        print(f"| {name} | {len(samples)} | {p50:.1f} | {p95:.1f} |")

    request_p50 = percentiles_ms(in_process)[0]
    parts = parts_timed(jpegs)
    print("\n| part (timed separately, in process) | p50 ms | p95 ms | share of in-process p50 |")
    print("|---|---|---|---|")
    for name, samples in parts.items():
        p50, p95 = percentiles_ms(samples)
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {p50 / request_p50:.0%} |")
    rest = request_p50 - sum(percentiles_ms(s)[0] for s in parts.values())
    print(
        f"| the rest: auth, multipart parsing, validation, serialisation, JSON (request p50 minus the above) | "
        f"{rest:.1f} | – | {rest / request_p50:.0%} |"
    )


if __name__ == "__main__":
    main()
