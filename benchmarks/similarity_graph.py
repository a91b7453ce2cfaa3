"""SIMILAR_TO upkeep: full rebuild, adding one product, and the seed's all-pairs query for comparison.

    LOOKALIKE_NEO4J_INSTANCE=bench .venv/bin/python -m benchmarks.similarity_graph --sizes 1000,2000,10000 --seed-sizes 1000,2000

Synthetic clustered unit vectors (`synthetic()` from search_latency: 1280-d, 3 images per product) are
written as Category/Product/ProductImage rows into a temporary SQLite database (the neighbour computation
reads vectors from there) and projected into the bench Neo4j (cleared), model "benchmark". Then:
- `similar_rebuild_all` over every product, timed, counting the vector-index queries it makes;
- adding new products one at a time (held out of the load, 3 images each): the graph upsert that
  `images_sync` does for them, then `product_similar_refresh` (which offers the new product back to its
  neighbours); embedding and file hashing are left out (see benchmarks/embedding_throughput.py);
- the seed's all-pairs Cypher at the seed sizes, scoring every image pair and counting those over the
  threshold (no writes, so a lower bound of the seed's cost), extrapolated as O(n^2) to larger sizes.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import numpy as np

from benchmarks._setup import database_migrate, django_temp

django_temp("similarity-graph")

from django.conf import settings  # noqa: E402

from benchmarks.search_latency import DIMENSIONS, IMAGES_PER_PRODUCT, LOAD_BATCH, percentiles, synthetic  # noqa: E402
from catalog.models import Category, Product, ProductImage  # noqa: E402
from search.graph import ImageRecord, ProductRecord, graph_store  # noqa: E402
from search.progress import progress_bar  # noqa: E402
from search.similar_edges import product_similar_refresh, similar_rebuild_all  # noqa: E402
from search.stored_vectors import vector_to_bytes  # noqa: E402
from search.tasks import sync_deferred  # noqa: E402

MODEL = "benchmark"
DB_BATCH = 2000
# The synthetic vectors stand for the configured backbone's, which the database caches (as images_sync
# leaves them); any other model's vectors would be read from the graph, the path of a pending reembed.
settings.LOOKALIKE_BACKBONE = MODEL

SEED_ALL_PAIRS = """
MATCH (a:Image), (b:Image) WHERE id(a) < id(b)
WITH a, b, vector.similarity.cosine(a.embeddings, b.embeddings) AS s
WHERE s >= $min_score
RETURN count(*)
"""


def product_record(product_id: int, category: int) -> ProductRecord:
    slug = f"c{category:02d}"
    return ProductRecord(
        product_id=product_id,
        name=f"p{product_id}",
        slug=f"p{product_id}",
        category=slug,
        category_slug=slug,
        price=1.0,
        in_stock=True,
    )


def image_records(image_ids: list[int], product_ids: np.ndarray, vectors: np.ndarray) -> list[ImageRecord]:
    return [
        ImageRecord(
            image_id=i,
            product_id=int(product_ids[i - 1]),
            path=f"synthetic/{i}.jpg",
            model=MODEL,
            embedding=vectors[i - 1].tolist(),
        )
        for i in image_ids
    ]


def db_fill(product_ids: np.ndarray, category: np.ndarray, vectors: np.ndarray, products: range) -> None:
    """Rows for `products` (ids = synthetic product ids, image ids = row number + 1)."""
    categories = {
        c: Category.objects.get_or_create(slug=f"c{c:02d}", defaults={"name": f"c{c:02d}"})[0]
        for c in sorted(set(category[p - 1] for p in products))
    }
    Product.objects.bulk_create(
        [
            Product(
                pk=p, name=f"p{p}", slug=f"p{p}", price=Decimal("1.00"), category=categories[category[p - 1]]
            )
            for p in products
        ],
        batch_size=DB_BATCH,
    )
    wanted = set(products)
    ProductImage.objects.bulk_create(
        [
            ProductImage(
                pk=i + 1,
                product_id=int(p),
                image=f"synthetic/{i + 1}.jpg",
                embedding=vector_to_bytes(vectors[i]),
                embedding_model=MODEL,
                sync_status="synced",
            )
            for i, p in enumerate(product_ids)
            if int(p) in wanted
        ],
        batch_size=DB_BATCH,
    )


def load(
    images: int, extra_products: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """`images` images in the DB and the graph; `extra_products` more (after them) only generated."""
    product_ids, category, vectors = synthetic(images + extra_products * IMAGES_PER_PRODUCT, rng)
    loaded = range(1, images // IMAGES_PER_PRODUCT + 1)
    with sync_deferred():  # the graph is cleared below; no per-product unindexing
        Product.objects.all().delete()
    db_fill(product_ids, category, vectors, loaded)
    store = graph_store()
    store.clear()
    store.ensure_schema(model=MODEL, dimensions=DIMENSIONS)
    started = time.perf_counter()
    store.upsert_products([product_record(p, int(category[p - 1])) for p in loaded])
    for start in range(1, images + 1, LOAD_BATCH):
        store.upsert_images(
            image_records(list(range(start, min(start + LOAD_BATCH, images + 1))), product_ids, vectors)
        )
    graph_store().db.autocommit("CALL db.awaitIndexes(3600)")
    return product_ids, category, vectors, time.perf_counter() - started


class IndexQueryCounter:
    """Counts the store's nearest-neighbour round trips and the vector-index queries inside them."""

    def __init__(self) -> None:
        self.store = graph_store()
        self.original = self.store.nearest_images_many
        self.round_trips = self.queries = 0

    def __enter__(self) -> IndexQueryCounter:
        def counting(vectors, **kwargs):
            self.round_trips += 1
            self.queries += len(vectors)
            return self.original(vectors, **kwargs)

        self.store.nearest_images_many = counting
        return self

    def __exit__(self, *exc: object) -> None:
        del self.store.nearest_images_many


def rebuild(products: int) -> tuple[float, IndexQueryCounter]:
    with (
        IndexQueryCounter() as counter,
        progress_bar(total=products, description="SIMILAR_TO rebuild", unit="product") as update,
    ):
        started = time.perf_counter()
        similar_rebuild_all(product_ids=range(1, products + 1), model=MODEL, progress=update)
        elapsed_s = time.perf_counter() - started
    return elapsed_s, counter


def product_add(
    product_id: int, product_ids: np.ndarray, category: np.ndarray, vectors: np.ndarray
) -> tuple[float, float]:
    """One new product's rows, then (timed) its graph upsert and its SIMILAR_TO refresh: seconds each."""
    db_fill(product_ids, category, vectors, range(product_id, product_id + 1))
    image_ids = [int(i) + 1 for i in np.flatnonzero(product_ids == product_id)]
    store = graph_store()
    started = time.perf_counter()
    store.upsert_products([product_record(product_id, int(category[product_id - 1]))])
    store.upsert_images(image_records(image_ids, product_ids, vectors))
    upserted = time.perf_counter()
    product_similar_refresh(product_id=product_id, model=MODEL)
    return upserted - started, time.perf_counter() - upserted


def seed_all_pairs() -> tuple[float, int]:
    started = time.perf_counter()
    [[pairs]] = graph_store().db.read(
        SEED_ALL_PAIRS, min_score=(1 + settings.LOOKALIKE_SIMILAR_MIN_SCORE) / 2
    )
    return time.perf_counter() - started, pairs


def edges_count() -> int:
    [[count]] = graph_store().db.read(
        "MATCH ()-[r:SIMILAR_TO {model: $model}]->() RETURN count(r)", model=MODEL
    )
    return count


def run(
    images: int, *, seed: bool, new_products: int, rng: np.random.Generator
) -> tuple[list[str], float, float | None]:
    product_ids, category, vectors, load_s = load(images, new_products, rng)
    products = images // IMAGES_PER_PRODUCT
    rebuild_s, counter = rebuild(products)
    rows = [
        f"| {images:,} | `similar_rebuild_all`, {products:,} products | {rebuild_s:.1f} s | {products / rebuild_s:.1f} products/s | "
        f"{counter.queries:,} in {counter.round_trips:,} round trips | {edges_count():,} edges; graph load {load_s:.0f} s |"
    ]
    if new_products:
        timings = [
            product_add(p, product_ids, category, vectors)
            for p in range(products + 1, products + new_products + 1)
        ]
        upsert_s, refresh_s = zip(*timings, strict=False)
        totals = [u + r for u, r in timings]
        rows.append(
            f"| {images:,} | add one product (3 images): upsert + `product_similar_refresh` | {percentiles(totals)} ms (p50 / p95) | "
            f"– | 3 in 1 round trip | {new_products} products; upsert p50 {np.median(upsert_s) * 1000:.1f} ms, "
            f"refresh p50 {np.median(refresh_s) * 1000:.1f} ms |"
        )
    seed_s = None
    if seed:
        seed_s, pairs = seed_all_pairs()
        rows.append(
            f"| {images:,} | seed all-pairs Cypher (scoring only, no writes) | {seed_s:.1f} s | – | – | "
            f"{images * (images - 1) // 2:,} pairs scored, {pairs:,} over {settings.LOOKALIKE_SIMILAR_MIN_SCORE} |"
        )
    return rows, rebuild_s, seed_s


def seed_extrapolated(size: int, seed_runs: list[tuple[int, float]], *, rebuild_s: float) -> str:
    base, base_s = seed_runs[-1]
    estimate_s = base_s * (size / base) ** 2
    growth = ""
    if len(seed_runs) > 1:
        small, small_s = seed_runs[-2]
        growth = f"; measured {small:,} -> {base:,}: x{base_s / small_s:.1f} (n² predicts x{(base / small) ** 2:.1f})"
    return (
        f"| {size:,} | seed all-pairs Cypher, **extrapolated** as n² from {base:,} | {estimate_s:,.0f} s | – | – | "
        f"not run; {estimate_s / rebuild_s:.0f}x the rebuild above{growth} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="1000,2000,10000", help="numbers of images to rebuild SIMILAR_TO for"
    )
    parser.add_argument(
        "--seed-sizes", default="1000,2000", help="sizes at which to run the seed's all-pairs query"
    )
    parser.add_argument(
        "--new-products", type=int, default=20, help="products added one at a time after the rebuild"
    )
    args = parser.parse_args()
    database_migrate()
    seed_sizes = {int(s) for s in args.seed_sizes.split(",") if s}
    print(
        f"SIMILAR_TO: k = {settings.LOOKALIKE_SIMILAR_K}, min score {settings.LOOKALIKE_SIMILAR_MIN_SCORE}\n"
    )
    print("| images | operation | time | rate | index queries | notes |")
    print("|---|---|---|---|---|---|")
    seed_runs: list[tuple[int, float]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows, rebuild_s, seed_s = run(
            size, seed=size in seed_sizes, new_products=args.new_products, rng=np.random.default_rng(42)
        )
        if seed_s is not None:
            seed_runs.append((size, seed_s))
        elif seed_runs:
            rows.append(seed_extrapolated(size, seed_runs, rebuild_s=rebuild_s))
        print("\n".join(rows), flush=True)


if __name__ == "__main__":
    main()
