"""Search latency and recall with and without filters, and bulk load + index build time, on the bench Neo4j.

    LOOKALIKE_NEO4J_INSTANCE=bench DJANGO_DEBUG=1 .venv/bin/python -m benchmarks.search_latency --sizes 10000,100000

Needs the bench Neo4j (`scripts/neo4j start bench`); it is cleared and refilled with synthetic clustered unit
vectors (1280-d, 3 images per product). Products get a category (one holding ~5% of products, one ~1%, the
rest spread over 18 more), a price uniform in [0, 100) and a stock flag true for ~half. Prints Markdown
tables: load and index build time, then p50/p95 of "query vector -> top-10 products" (Lookalike's real
search path) and recall@10 against the exact product ranking by NumPy, for each filter.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import django
import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOOKALIKE_NEO4J_INSTANCE", "bench")
os.environ.setdefault("DJANGO_DEBUG", "1")
django.setup()

from search.graph import ImageRecord, ProductRecord, graph_store  # noqa: E402
from search.graph.base import ProductFilter  # noqa: E402
from search.graph.neo4j_schema import vector_index_name  # noqa: E402
from search.similarity import _nearest_product_hits  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = "benchmark"
DIMENSIONS = 1280
IMAGES_PER_PRODUCT = 3
K = 10

SEED_QUERY = """
MATCH (i:Image)
WITH i, vector.similarity.cosine(i.embeddings, $embedding) AS score
RETURN i.image_id, score ORDER BY score DESC LIMIT $k
"""

FILTERS = {
    "no filter": ProductFilter(),
    "category ~5%": ProductFilter(category_slug="c00"),
    "category ~1%": ProductFilter(category_slug="c01"),
    "price 40-50 (~10%)": ProductFilter(min_price=40.0, max_price=50.0),
    "in stock (~50%)": ProductFilter(in_stock=True),
    "category ~5% + price <= 50": ProductFilter(category_slug="c00", max_price=50.0),
}


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def synthetic(images: int, rng: np.random.Generator) -> tuple[np.ndarray, list[ProductRecord], np.ndarray]:
    """Clustered vectors (like real embeddings, unlike uniform noise): image -> product id, products, vectors."""
    products = images // IMAGES_PER_PRODUCT
    centres = _unit(rng.normal(size=(max(products // 20, 1), DIMENSIONS)))
    product_centre = _unit(
        centres[rng.integers(0, len(centres), products)]
        + 0.6 * _unit(rng.normal(size=(products, DIMENSIONS)))
    )
    product_ids = np.repeat(np.arange(1, products + 1), IMAGES_PER_PRODUCT)
    vectors = _unit(
        product_centre[product_ids - 1] + 0.35 * _unit(rng.normal(size=(len(product_ids), DIMENSIONS)))
    )
    share = rng.random(products)
    category = np.where(share < 0.05, 0, np.where(share < 0.06, 1, rng.integers(2, 20, products)))
    price = np.round(rng.random(products) * 100, 2)
    in_stock = rng.random(products) < 0.5
    records = [
        ProductRecord(
            product_id=p + 1,
            name=f"p{p + 1}",
            slug=f"p{p + 1}",
            category=f"C{category[p]:02d}",
            category_slug=f"c{category[p]:02d}",
            price=float(price[p]),
            in_stock=bool(in_stock[p]),
        )
        for p in range(products)
    ]
    return product_ids, records, vectors


def load(
    product_ids: np.ndarray,
    products: list[ProductRecord],
    vectors: np.ndarray,
    *,
    batch: int,
    index_during_load: bool,
) -> tuple[float, float]:
    """Seconds to load products and vectors, and to build the vector index: after the load (bulk path), or
    during it (the index exists while batches arrive, as for day-to-day writes)."""
    store = graph_store()
    store.clear()
    store.ensure_schema(model=MODEL, dimensions=DIMENSIONS)
    if not index_during_load:
        store.db.write(f"DROP INDEX {vector_index_name(MODEL)}")
    started = time.perf_counter()
    for start in range(0, len(products), 5000):
        store.upsert_products(products[start : start + 5000])
    for start in range(0, len(vectors), batch):
        store.upsert_images(
            [
                ImageRecord(
                    image_id=i + 1,
                    product_id=int(product_ids[i]),
                    path=f"synthetic/{i}",
                    model=MODEL,
                    embedding=vectors[i],
                )
                for i in range(start, min(start + batch, len(vectors)))
            ]
        )
    loaded = time.perf_counter()
    print(f"{len(vectors):,} images loaded in {loaded - started:.0f} s; building the index", file=sys.stderr)
    store.vector_index_rebuild(model=MODEL, dimensions=DIMENSIONS, even_if_served=True)
    return loaded - started, time.perf_counter() - loaded


def exact_products(vectors, product_ids, query, allowed=None) -> list[int]:
    scores = vectors @ query
    order = np.argsort(-scores)
    seen: list[int] = []
    for i in order:
        p = int(product_ids[i])
        if (allowed is None or allowed[p - 1]) and p not in seen:
            seen.append(p)
            if len(seen) == K:
                break
    return seen


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    ms = np.array(samples_s) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def timed(fn, queries) -> tuple[list[float], list]:
    times, results = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(fn(query))
        times.append(time.perf_counter() - started)
    return times, results


def store_size_mb() -> float:
    data = ROOT / "var" / "neo4j" / os.environ["LOOKALIKE_NEO4J_INSTANCE"] / "data"
    if not data.exists():
        return float("nan")
    out = subprocess.run(["du", "-sm", str(data)], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


def run(images: int, args: argparse.Namespace, rng: np.random.Generator) -> list[str]:
    product_ids, products, vectors = synthetic(images, rng)
    store = graph_store()
    if args.reuse and store.stats().images == len(vectors):
        load_s = index_s = 0.0
    else:
        load_s, index_s = load(
            product_ids, products, vectors, batch=args.load_batch, index_during_load=args.index_during_load
        )
    queries = _unit(
        vectors[rng.integers(0, len(vectors), args.queries)]
        + 0.3 * _unit(rng.normal(size=(args.queries, DIMENSIONS)))
    )
    for q in queries[:10]:  # warm-up: page cache, query plans, JIT
        for where in FILTERS.values():
            _nearest_product_hits(q, need=K, model=MODEL, where=where, min_score=None)

    lines = []
    baseline_p50 = None
    for name, where in FILTERS.items():
        allowed = np.array([where.matches(p) for p in products])
        took, found = timed(
            lambda q, where=where: [
                h.product_id
                for h in _nearest_product_hits(q, need=K, model=MODEL, where=where, min_score=None)
            ],
            queries,
        )
        exact = [exact_products(vectors, product_ids, q, allowed) for q in queries]
        recall = np.mean([len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(found, exact, strict=True)])
        p50, p95 = percentiles(took)
        baseline_p50 = baseline_p50 or p50
        lines.append(
            f"| {images:,} | {name} | {allowed.mean():.1%} | {p50:.1f} / {p95:.1f} | {p50 / baseline_p50:.1f}x "
            f"| {recall:.3f} |"
        )
    if args.exact_compare:
        for name in ("category ~1%", "category ~5%"):
            where = FILTERS[name]
            took, _ = timed(
                lambda q, where=where: store.nearest_products_exact(
                    q, k=K, model=MODEL, where=where, min_score=None
                ),
                queries[: args.exact_compare],
            )
            p50, p95 = percentiles(took)
            lines.append(
                f"| {images:,} | {name}, exact scan instead (for comparison) | | {p50:.1f} / {p95:.1f} | | 1.000 |"
            )
    seed_s, _ = timed(
        lambda q: store.db.read(SEED_QUERY, embedding=q.tolist(), k=K), queries[: args.seed_queries]
    )
    p50, p95 = percentiles(seed_s)
    lines.append(
        f"| {images:,} | seed full scan (`vector.similarity.cosine`, top-10 images, no filter) | | {p50:.1f} / {p95:.1f} | | |"
    )
    numpy_s, _ = timed(lambda q: exact_products(vectors, product_ids, q), queries)
    p50, p95 = percentiles(numpy_s)
    lines.append(
        f"| {images:,} | exact NumPy scan in process (no filter) | | {p50:.1f} / {p95:.1f} | | 1.000 |"
    )
    load_line = (
        f"| {images:,} | {load_s:.0f} | {index_s:.0f} | {load_s + index_s:.0f} | {store_size_mb():.0f} | "
        f"{'during load' if args.index_during_load else 'after load'}, batches of {args.load_batch} | "
        f"{os.getloadavg()[0]:.1f} |"
        if load_s
        else f"| {images:,} | reused | | | {store_size_mb():.0f} | | |"
    )
    return [load_line, *lines]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="numbers of indexed images")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed-queries", type=int, default=20, help="the full scan is slow; fewer queries")
    parser.add_argument(
        "--exact-compare", type=int, default=50, help="queries timing the exact scan (0: skip)"
    )
    parser.add_argument("--load-batch", type=int, default=2000, help="images per write transaction")
    parser.add_argument(
        "--index-during-load",
        action="store_true",
        help="keep the vector index while loading (default: build after)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the bench graph if it already has this size"
    )
    args = parser.parse_args()
    # Each size's tables are printed as soon as it is done: a long run cut short still leaves results.
    for size in (int(s) for s in args.sizes.split(",")):
        lines = run(size, args, np.random.default_rng(42))
        print(
            "| images | load s | index build s | total s | store on disk MB | how | load avg (1 min) at end |"
        )
        print("|---|---|---|---|---|---|---|")
        print(lines[0])
        print()
        print("| images | filter | products kept | p50 / p95 ms | p50 vs no filter | recall@10 |")
        print("|---|---|---|---|---|---|")
        print("\n".join(lines[1:]))
        print(flush=True)
        print(f"done {size:,} at load average {os.getloadavg()}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
