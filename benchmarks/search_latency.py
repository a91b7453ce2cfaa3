"""Query latency and recall: Lookalike's product search vs the seed's full-scan Cypher vs exact NumPy.

    LOOKALIKE_NEO4J_INSTANCE=bench DJANGO_DEBUG=1 .venv/bin/python -m benchmarks.search_latency --sizes 10000,100000

Needs the bench Neo4j (`scripts/neo4j start bench`, 127.0.0.1:7689); it is cleared and refilled with
synthetic clustered unit vectors (3 images per product, 20 categories, one holding ~5% of products).
Prints a Markdown table: p50/p95 latency of "query vector -> top-10 products" for each method, and
recall@10 of Lookalike's products against the exact product ranking, with and without that filter.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import django
import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOOKALIKE_NEO4J_INSTANCE", "bench")
os.environ.setdefault("DJANGO_DEBUG", "1")
django.setup()


from search.graph import ImageRecord, ProductRecord, graph_store  # noqa: E402
from search.graph.base import ProductFilter  # noqa: E402
from search.similarity import _nearest_product_hits  # noqa: E402

MODEL = "benchmark"
DIMENSIONS = 1280
IMAGES_PER_PRODUCT = 3
CATEGORIES = 20
RARE = "c00"  # ~5% of products
K = 10
LOAD_BATCH = 500

SEED_QUERY = """
MATCH (i:Image)
WITH i, vector.similarity.cosine(i.embeddings, $embedding) AS score
RETURN i.image_id, score ORDER BY score DESC LIMIT $k
"""


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def synthetic(images: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clustered vectors (like real embeddings, unlike uniform noise): product ids, categories, vectors."""
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
    category = np.where(rng.random(products) < 0.05, 0, rng.integers(1, CATEGORIES, products))
    return product_ids, category, vectors


def load(
    product_ids: np.ndarray, category: np.ndarray, vectors: np.ndarray, *, reuse: bool
) -> tuple[float, float]:
    """Seconds to load the vectors (into a live index, batch by batch) and to build the index afresh."""
    store = graph_store()
    if reuse and store.stats().images == len(vectors):
        return 0.0, 0.0  # the same seeded data is already there
    store.clear()
    store.ensure_schema(model=MODEL, dimensions=DIMENSIONS)
    started = time.perf_counter()
    store.upsert_products(
        [
            ProductRecord(
                product_id=int(p),
                name=f"p{p}",
                slug=f"p{p}",
                category=f"c{category[p - 1]:02d}",
                category_slug=f"c{category[p - 1]:02d}",
                price=1.0,
                in_stock=True,
            )
            for p in range(1, len(category) + 1)
        ]
    )
    for start in range(0, len(vectors), LOAD_BATCH):
        store.upsert_images(
            [
                ImageRecord(
                    image_id=i + 1,
                    product_id=int(product_ids[i]),
                    path=f"synthetic/{i}",
                    model=MODEL,
                    embedding=vectors[i].tolist(),
                )
                for i in range(start, min(start + LOAD_BATCH, len(vectors)))
            ]
        )
    graph_store().db.autocommit("CALL db.awaitIndexes(3600)")
    loaded = time.perf_counter()
    print(
        f"{len(vectors):,} images loaded in {loaded - started:.0f} s; building the index as reembed does",
        file=sys.stderr,
    )
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


def percentiles(samples_s: list[float]) -> str:
    ms = np.array(samples_s) * 1000
    return f"{np.percentile(ms, 50):.1f} / {np.percentile(ms, 95):.1f}"


def timed(fn, queries) -> tuple[list[float], list]:
    times, results = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(fn(query))
        times.append(time.perf_counter() - started)
    return times, results


def run(
    images: int, queries_count: int, seed_queries: int, rng: np.random.Generator, reuse: bool
) -> list[str]:
    product_ids, category, vectors = synthetic(images, rng)
    load_s, index_s = load(product_ids, category, vectors, reuse=reuse)
    queries = _unit(
        vectors[rng.integers(0, len(vectors), queries_count)]
        + 0.3 * _unit(rng.normal(size=(queries_count, DIMENSIONS)))
    )
    rare = ProductFilter(category_slug=RARE)
    allowed_rare = category == 0

    for q in queries[:5]:  # warm-up: page cache, query plans, JIT
        _nearest_product_hits(q, need=K, model=MODEL, where=ProductFilter(), min_score=None)

    ours_s, ours = timed(
        lambda q: [
            h.product_id
            for h in _nearest_product_hits(q, need=K, model=MODEL, where=ProductFilter(), min_score=None)
        ],
        queries,
    )
    rare_s, ours_rare = timed(
        lambda q: [
            h.product_id for h in _nearest_product_hits(q, need=K, model=MODEL, where=rare, min_score=None)
        ],
        queries,
    )
    seed_s, _ = timed(
        lambda q: graph_store().db.read(SEED_QUERY, embedding=q.tolist(), k=K), queries[:seed_queries]
    )
    numpy_s, exact = timed(lambda q: exact_products(vectors, product_ids, q), queries)
    exact_rare = [exact_products(vectors, product_ids, q, allowed_rare) for q in queries]

    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(ours, exact, strict=False)])
    recall_rare = np.mean(
        [len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(ours_rare, exact_rare, strict=False)]
    )
    speedup = np.median(seed_s) / np.median(ours_s)
    return [
        f"| {images:,} | Lookalike (vector index, top-10 products) | {percentiles(ours_s)} | {recall:.3f} | "
        f"{f'load {load_s:.0f} s, index build {index_s:.0f} s' if load_s else 'graph reused'} |",
        f"| {images:,} | Lookalike, category filter keeping {allowed_rare.mean():.1%} of products | {percentiles(rare_s)} | {recall_rare:.3f} | |",
        f"| {images:,} | seed full scan (`vector.similarity.cosine`, top-10 images) | {percentiles(seed_s)} | – | Lookalike {speedup:.0f}x faster (p50) |",
        f"| {images:,} | exact NumPy scan in process | {percentiles(numpy_s)} | 1.000 | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="numbers of indexed images")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed-queries", type=int, default=30, help="the full scan is slow; fewer queries")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the bench graph if it already has this size"
    )
    args = parser.parse_args()
    print("| images | method | p50 / p95 ms | recall@10 | notes |")
    print("|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        for line in run(size, args.queries, args.seed_queries, np.random.default_rng(42), args.reuse):
            print(line, flush=True)


if __name__ == "__main__":
    main()
