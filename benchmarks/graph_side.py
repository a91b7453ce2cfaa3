"""A bulk import's graph side without the model: Neo4j's CPU per image for node writes and SIMILAR_TO.

    scripts/postgres start && scripts/neo4j start bench
    .venv/bin/python -m benchmarks.ingestion --photos 10000 --workers 2 ...   # leaves lookalike_bench
    .venv/bin/python -m benchmarks.graph_side [--images 4700] [--passes 5]

Replays what one worker lane sends Neo4j, one batch after the other, for the images whose vectors the last
`benchmarks.ingestion` run stored in its database: batches of 25 images in product order, each written by
`images_project`, and each product's SIMILAR_TO refreshed (`product_similar_refresh`) after the batch holding
its last image, as the deferral does. The bench graph is cleared (vector index dropped and made again) before
each pass. Reports the bench Neo4j JVM's CPU (from /proc) and this process's, per image, for the writes and
for the refreshes. No model, no queue and no other process: the JVM's own cost, free of the workers'
contention. A freshly started JVM costs several times as much in its first passes, while it compiles.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

from benchmarks._cpu import cpu_s

ROOT = Path(__file__).resolve().parents[1]
BATCH = 25


def _database_url() -> str:
    from benchmarks.ingestion import BENCH_DB, _admin_url

    return f"{_admin_url()}/{BENCH_DB}"


def replay_pass(images: list, *, neo4j_pid: int) -> dict[str, float]:
    from django.conf import settings
    from django.core.management import call_command

    from search import indexing
    from search.graph import graph_store
    from search.similar_edges import product_similar_refresh
    from search.versions import versions_indexed

    store = graph_store()
    store.clear()
    store.model_drop(settings.LOOKALIKE_BACKBONE)
    call_command("setup_graph", stdout=io.StringIO())
    version = versions_indexed()[0]
    batches = [images[start : start + BATCH] for start in range(0, len(images), BATCH)]
    last_batch = {image.product_id: n for n, batch in enumerate(batches) for image in batch}
    spent = {"write_jvm": 0.0, "write_py": 0.0, "similar_jvm": 0.0, "similar_py": 0.0, "refreshed": 0.0}
    for n, batch in enumerate(batches):
        jvm, own = cpu_s(neo4j_pid), time.process_time()
        indexing.images_project(batch, version=version)
        spent["write_jvm"] += cpu_s(neo4j_pid) - jvm
        spent["write_py"] += time.process_time() - own
        jvm, own = cpu_s(neo4j_pid), time.process_time()
        for product_id in sorted({image.product_id for image in batch if last_batch[image.product_id] == n}):
            product_similar_refresh(product_id=product_id, model=version)
            spent["refreshed"] += 1
        spent["similar_jvm"] += cpu_s(neo4j_pid) - jvm
        spent["similar_py"] += time.process_time() - own
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=10_000, help="at most this many stored vectors")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    os.environ["LOOKALIKE_NEO4J_INSTANCE"] = "bench"
    os.environ["DATABASE_URL"] = _database_url()
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-not-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from catalog.models import ProductImage

    neo4j_pid = int((ROOT / "var" / "neo4j" / "bench" / "run" / "lookalike-neo4j.pid").read_text())
    images = list(
        ProductImage.objects.filter(embedding__isnull=False)
        .select_related("product__category")
        .order_by("product_id", "pk")[: args.images]
    )
    print(f"{len(images)} stored vectors, batches of {BATCH}; ms of CPU per image:")
    print(
        "| pass | Neo4j: writes | Neo4j: SIMILAR_TO | Neo4j: all | this process: writes / SIMILAR_TO | refreshes |"
    )
    print("|---|---|---|---|---|---|")
    for n in range(args.passes):
        spent = replay_pass(images, neo4j_pid=neo4j_pid)
        per = {key: 1000 * value / len(images) for key, value in spent.items()}
        print(
            f"| {n + 1} | {per['write_jvm']:.2f} | {per['similar_jvm']:.2f} | "
            f"{per['write_jvm'] + per['similar_jvm']:.2f} | {per['write_py']:.2f} / {per['similar_py']:.2f} | "
            f"{spent['refreshed']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
