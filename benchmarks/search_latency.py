"""Search latency and recall with and without filters, and bulk load + index build time, on the bench Neo4j.

    LOOKALIKE_NEO4J_INSTANCE=bench DJANGO_DEBUG=1 .venv/bin/python -m benchmarks.search_latency --sizes 10000,100000

Needs the bench Neo4j (`scripts/neo4j start bench`); it is cleared and refilled with 1280-d unit vectors,
3 images per product, drawn from real EfficientNet-Lite0 embeddings of the Grocery Store photos (see
`photo_like`; `--vectors clustered` for plain Gaussian clusters). Products get a category (one holding ~5% of
products, one ~1%, the rest spread over 18 more), a price uniform in [0, 100) and a stock flag true for
~half, independent of the vectors. The scored queries come from their own seed (`--query-seed`). Prints Markdown
tables: load and index build time, then p50/p95 of "query vector -> top-10 products" (Lookalike's real
search path) and recall@10 against the exact product ranking by NumPy, for each filter.
"""

from __future__ import annotations

import argparse
import json
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

import search.filter_share  # noqa: E402
import search.similarity  # noqa: E402
from search.graph import ImageRecord, ProductRecord, graph_store  # noqa: E402
from search.graph.base import ProductFilter  # noqa: E402
from search.graph.neo4j_schema import vector_index_name  # noqa: E402
from search.similarity import _nearest_product_hits  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = "benchmark"
# --compare-index: a second vector index with other options on the same image nodes (a second label), so the
# two are compared within one run, query by query.
MODEL_B = "benchmark_b"
DIMENSIONS = 1280
IMAGES_PER_PRODUCT = 3
K = 10
# Spread of product centres around a real product's mean, in units of the real photos' covariance: 0.3 gives
# unrelated images the real photos' mean cosine (0.34 vs 0.35) and same-product photos 0.71 (real 0.68).
PRODUCT_SPREAD = 0.3

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
    # A broad range: its over-fetch must stay near the unfiltered one, or it loses recall.
    "price <= 90 (~90%)": ProductFilter(max_price=90.0),
}


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def photo_like(
    products: int, queries: int, rng: np.random.Generator, query_rng: np.random.Generator, dataset: Path
) -> tuple[np.ndarray, np.ndarray]:
    """Product vectors and query vectors drawn from real EfficientNet-Lite0 embeddings of the shop photos in
    `dataset` (2,721 Grocery Store photos, 81 products, embedded once by benchmarks/embedding_cache.py).

    A product's centre is the mean embedding of one real product plus a Gaussian draw with the covariance of
    all the real photos (scaled by PRODUCT_SPREAD); each image, and each query ("a shopper's photo of a
    catalog product"), is that centre plus the mix of two real photos' deviations from their own product's
    mean. The result keeps what makes real embeddings hard for an ANN index and its quantisation: all
    coordinates from one non-negative cone (mean cosine between unrelated images 0.34, real photos 0.35),
    same-product photos at 0.71 (real 0.68), and a thousand look-alike products around each real one."""
    from benchmarks.embedding_cache import embeddings_cache

    cached = np.load(embeddings_cache(dataset, "efficientnet_lite0"))
    photos = cached["plain"].astype(np.float32)
    _, product_of_photo = np.unique(cached["label"], return_inverse=True)
    means = np.stack([photos[product_of_photo == c].mean(axis=0) for c in range(product_of_photo.max() + 1)])
    deviations = photos - means[product_of_photo]
    centred = (photos - photos.mean(axis=0)) / np.sqrt(len(photos) - 1)
    centres = np.empty((products, photos.shape[1]), dtype=np.float32)
    for start in range(0, products, 10_000):  # chunks: the Gaussian draws would not fit in memory at once
        n = min(10_000, products - start)
        draws = rng.normal(size=(n, len(photos))).astype(np.float32) @ centred
        centres[start : start + n] = means[rng.integers(0, len(means), n)] + PRODUCT_SPREAD * draws

    def photos_of(product_index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = np.empty((len(product_index), photos.shape[1]), dtype=np.float32)
        for start in range(0, len(product_index), 50_000):
            chunk = product_index[start : start + 50_000]
            mix = (
                deviations[rng.integers(0, len(photos), len(chunk))]
                + deviations[rng.integers(0, len(photos), len(chunk))]
            )
            out[start : start + len(chunk)] = _unit(centres[chunk] + mix / np.sqrt(2))
        return out

    vectors = photos_of(np.repeat(np.arange(products), IMAGES_PER_PRODUCT), rng)
    return vectors, photos_of(query_rng.integers(0, products, queries), query_rng)


def clustered(
    products: int, queries: int, rng: np.random.Generator, query_rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters on the sphere (the first version of this benchmark): easier than real embeddings,
    whose coordinates all share one cone."""
    centres = _unit(rng.normal(size=(max(products // 20, 1), DIMENSIONS)))
    product_centre = _unit(
        centres[rng.integers(0, len(centres), products)]
        + 0.6 * _unit(rng.normal(size=(products, DIMENSIONS)))
    )
    vectors = _unit(
        np.repeat(product_centre, IMAGES_PER_PRODUCT, axis=0)
        + 0.35 * _unit(rng.normal(size=(products * IMAGES_PER_PRODUCT, DIMENSIONS)))
    )
    picked = vectors[query_rng.integers(0, len(vectors), queries)]
    return vectors, _unit(picked + 0.3 * _unit(query_rng.normal(size=(queries, DIMENSIONS))))


def catalog(products: int, rng: np.random.Generator) -> list[ProductRecord]:
    """Category (one holding ~5% of products, one ~1%, the rest over 18 more), price uniform in [0, 100),
    in stock for ~half; drawn independently of the vectors (the hard case for a filtered index: the
    nearest images mostly fail the filter)."""
    share = rng.random(products)
    category = np.where(share < 0.05, 0, np.where(share < 0.06, 1, rng.integers(2, 20, products)))
    price = np.round(rng.random(products) * 100, 2)
    in_stock = rng.random(products) < 0.5
    return [
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
    compare_index_drop()  # an earlier --compare-index run's, else left behind empty
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
    if index_during_load:
        # The index took every batch as it came; only what is still being applied is left to wait for (an
        # earlier version rebuilt it here too, which charged the during-load mode for a second build).
        store.db.autocommit("CALL db.awaitIndexes($timeout_s)", timeout_s=3600)
    else:
        store.vector_index_rebuild(model=MODEL, dimensions=DIMENSIONS, even_if_served=True)
    return loaded - started, time.perf_counter() - loaded


def compare_index_build(options: dict) -> float:
    """Seconds to label the loaded images for MODEL_B and build its index with `options` overriding the store's;
    0 when an earlier `--keep-compare-index` run left that index built on every loaded image."""
    store = graph_store()
    kept = store.db.read(
        "SHOW VECTOR INDEXES YIELD name, options, state WHERE name = $name RETURN options, state",
        name=vector_index_name(MODEL_B),
    )
    if kept and kept[0][1] == "ONLINE":
        config = kept[0][0]["indexConfig"]
        labelled = store.db.read(f"MATCH (i:Image_{MODEL_B}) RETURN count(i)")[0][0]
        if labelled == store.stats().images and all(config.get(k) == v for k, v in options.items()):
            print(f"compare index kept from an earlier run: {config}", file=sys.stderr, flush=True)
            return 0.0
    store.db.autocommit(
        f"MATCH (i:Image_{MODEL}) CALL (i) {{ SET i:Image_{MODEL_B} }} IN TRANSACTIONS OF 10000 ROWS"
    )
    saved = store.index_config
    store.index_config = {**saved, **options}
    started = time.perf_counter()
    try:
        store.vector_index_rebuild(model=MODEL_B, dimensions=DIMENSIONS, even_if_served=True)
    finally:
        store.index_config = saved
    return time.perf_counter() - started


def compare_index_drop() -> None:
    """Take MODEL_B's label off the images and drop its index (the nodes are MODEL's: never delete them)."""
    store = graph_store()
    store.db.autocommit(
        f"MATCH (i:Image_{MODEL_B}) CALL (i) {{ REMOVE i:Image_{MODEL_B} }} IN TRANSACTIONS OF 10000 ROWS"
    )
    store.db.write(f"DROP INDEX {vector_index_name(MODEL_B)} IF EXISTS")


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


def store_size_mb(under: str = "") -> float:
    data = ROOT / "var" / "neo4j" / os.environ["LOOKALIKE_NEO4J_INSTANCE"] / "data" / under
    if not data.exists():
        return float("nan")
    out = subprocess.run(["du", "-sm", str(data)], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


def server_memory() -> str:
    """What sizing needs beyond disk: the vector index files (Lucene, read through the OS file cache, not the
    page cache), the heap's old generation at its peak (what survived collections: the store's working
    objects), and the memory-mapped index files (JMX; Community has no page cache bean)."""
    beans = dict(
        graph_store().db.read(
            "CALL dbms.queryJmx('java.*:*') YIELD name, attributes "
            "WHERE name IN ['java.lang:name=G1 Old Gen,type=MemoryPool', 'java.nio:name=mapped,type=BufferPool'] "
            "RETURN name, attributes"
        )
    )
    old_gen = beans["java.lang:name=G1 Old Gen,type=MemoryPool"]["PeakUsage"]["value"]["properties"]["used"]
    mapped = beans["java.nio:name=mapped,type=BufferPool"]["MemoryUsed"]["value"]
    index_mb = store_size_mb("databases/neo4j/schema/index/vector-2026.08")
    return (
        f"vector index on disk {index_mb:.0f} MB ({index_segments()}); heap old generation peak "
        f"{old_gen / 2**20:.0f} MB; memory-mapped files {mapped / 2**20:.0f} MB"
    )


def index_segments() -> str:
    """Lucene segments per vector index directory (each segment is its own HNSW graph, walked with the full k)."""
    root = (
        ROOT
        / "var"
        / "neo4j"
        / os.environ["LOOKALIKE_NEO4J_INSTANCE"]
        / "data"
        / "databases/neo4j/schema/index/vector-2026.08"
    )
    counts = [
        f"index {d.name}: {len(list(d.glob('*/*.si')))} segments"
        for d in sorted(root.glob("*"))
        if d.is_dir()
    ]
    return ", ".join(counts) or "no vector index directory"


def index_options() -> str:
    """The HNSW options each benchmark vector index was actually built with (not the settings')."""
    rows = graph_store().db.read(
        "SHOW VECTOR INDEXES YIELD name, options WHERE name STARTS WITH 'image_embeddings_benchmark' "
        "RETURN name, options ORDER BY name"
    )
    return "; ".join(
        f"{name}: m {o['indexConfig'].get('vector.hnsw.m')}, "
        f"ef_construction {o['indexConfig'].get('vector.hnsw.ef_construction')}, "
        f"quantization {o['indexConfig'].get('vector.quantization.type')}"
        for name, o in rows
    )


def run(images: int, args: argparse.Namespace, rng: np.random.Generator) -> list[str]:
    count = images // IMAGES_PER_PRODUCT
    query_rng = np.random.default_rng(args.query_seed)
    if args.vectors == "photos":
        vectors, queries = photo_like(count, args.queries, rng, query_rng, args.dataset)
    else:
        vectors, queries = clustered(count, args.queries, rng, query_rng)
    products = catalog(count, rng)
    product_ids = np.repeat(np.arange(1, count + 1), IMAGES_PER_PRODUCT)
    store = graph_store()
    if args.reuse and store.stats().images == len(vectors):
        load_s = index_s = 0.0
        if args.rebuild_index:
            started = time.perf_counter()
            store.vector_index_rebuild(model=MODEL, dimensions=DIMENSIONS, even_if_served=True)
            index_s = time.perf_counter() - started
    else:
        load_s, index_s = load(
            product_ids, products, vectors, batch=args.load_batch, index_during_load=args.index_during_load
        )
    indexes = {"": MODEL}
    if args.compare_index:
        compare_s = compare_index_build(json.loads(args.compare_index))
        print(f"compare index {args.compare_index} built in {compare_s:.0f} s", file=sys.stderr, flush=True)
        built = f"built in {compare_s:.0f} s" if compare_s else "kept from an earlier run"
        indexes[f" (B: {args.compare_index}, {built})"] = MODEL_B
        if args.compare_only:  # the second index's rows alone, timed as a single-index run is
            del indexes[""]
    overfetches = [int(o) for o in str(args.overfetch).split(",")]
    # Every index at every over-fetch: label -> (model, over-fetch).
    variants = {
        f"{label}{f' [over-fetch {o}]' if len(overfetches) > 1 else ''}": (model, o)
        for label, model in indexes.items()
        for o in overfetches
    }
    search.filter_share.catalog_shape_forget()  # the graph was just refilled
    shape_took, _ = timed(lambda _: store.catalog_shape(), range(5))
    print(
        f"catalog shape (filter shares): {store.catalog_shape().products:,} products, "
        f"{len(store.catalog_shape().cells)} cells, p50 {percentiles(shape_took)[0]:.0f} ms",
        file=sys.stderr,
        flush=True,
    )
    for q in queries[:10]:  # warm-up: page cache, query plans, JIT
        for where in FILTERS.values():
            for model, overfetch in variants.values():
                search.similarity.SEARCH_OVERFETCH = overfetch
                _nearest_product_hits(q, need=K, model=model, where=where, min_score=None)

    lines = []
    baseline_p50: dict[str, float] = {}
    for name, where in FILTERS.items():
        allowed = np.array([where.matches(p) for p in products])
        share = search.filter_share.filter_share(store, where)
        passing_images = search.filter_share.filter_images(store, where, model=MODEL)
        depth: dict[str, int] = {}
        for variant, (_, overfetch) in variants.items():
            search.similarity.SEARCH_OVERFETCH = overfetch
            depth[variant] = search.similarity.search_depth(
                need=K, share=share, passing_images=passing_images if where.has_product_properties else np.inf
            )
        exact = [exact_products(vectors, product_ids, q, allowed) for q in queries]
        variant_took: dict[str, list[float]] = {v: [] for v in variants}
        variant_found: dict[str, list[list[int]]] = {v: [] for v in variants}
        order = list(variants)
        for n, q in enumerate(queries):
            # Every variant on each query, so a change of machine load hits all alike; the order rotates from
            # query to query, since the variant run right after another on the same query vector ran faster.
            for variant in order[n % len(order) :] + order[: n % len(order)]:
                model, search.similarity.SEARCH_OVERFETCH = variants[variant]
                started = time.perf_counter()
                hits = _nearest_product_hits(q, need=K, model=model, where=where, min_score=None)
                variant_took[variant].append(time.perf_counter() - started)
                variant_found[variant].append([h.product_id for h in hits])
        for variant in variants:
            recall = np.mean(
                [
                    len(set(a) & set(b)) / max(len(b), 1)
                    for a, b in zip(variant_found[variant], exact, strict=True)
                ]
            )
            p50, p95 = percentiles(variant_took[variant])
            baseline_p50.setdefault(variant, p50)
            lines.append(
                f"| {images:,} | {name}{variant} | {allowed.mean():.1%} | {share:.1%}, {depth[variant]:,} "
                f"| {p50:.1f} / {p95:.1f} "
                f"| {p50 / baseline_p50[variant]:.1f}x | {recall:.3f} |"
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
                f"| {images:,} | {name}, exact scan instead (for comparison) | | | {p50:.1f} / {p95:.1f} | | 1.000 |"
            )
    if args.seed_queries:
        seed_s, _ = timed(
            lambda q: store.db.read(SEED_QUERY, embedding=q.tolist(), k=K), queries[: args.seed_queries]
        )
        p50, p95 = percentiles(seed_s)
        lines.append(
            f"| {images:,} | seed full scan (`vector.similarity.cosine`, top-10 images, no filter) | | | {p50:.1f} / {p95:.1f} | | |"
        )
    print(index_options(), flush=True)
    if args.compare_index and not args.keep_compare_index:
        compare_index_drop()
    numpy_s, _ = timed(lambda q: exact_products(vectors, product_ids, q), queries)
    p50, p95 = percentiles(numpy_s)
    lines.append(
        f"| {images:,} | exact NumPy scan in process (no filter) | | | {p50:.1f} / {p95:.1f} | | 1.000 |"
    )
    load_line = (
        f"| {images:,} | {load_s:.0f} | {index_s:.0f} | {load_s + index_s:.0f} | {store_size_mb():.0f} | "
        f"{'during load' if args.index_during_load else 'after load'}, batches of {args.load_batch} | "
        f"{os.getloadavg()[0]:.1f} |"
        if load_s
        else f"| {images:,} | reused | {index_s:.0f} | | {store_size_mb():.0f} | index rebuilt on the loaded graph | "
        f"{os.getloadavg()[0]:.1f} |"
        if index_s
        else f"| {images:,} | reused | | | {store_size_mb():.0f} | | |"
    )
    return [load_line, *lines]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="numbers of indexed images")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--query-seed",
        type=int,
        default=7,
        help="seed of the scored query vectors (tune settings with another seed, never on these)",
    )
    parser.add_argument(
        "--vectors",
        choices=("photos", "clustered"),
        default="photos",
        help="photos: drawn from real EfficientNet-Lite0 embeddings of --dataset; clustered: Gaussian clusters",
    )
    parser.add_argument(
        "--dataset",
        type=Path,
        default=ROOT.parent / "shared" / "datasets" / "grocery-store",
        help="labelled shop photos (Grocery Store layout) whose embeddings the vectors are drawn from",
    )
    parser.add_argument("--seed-queries", type=int, default=20, help="the full scan is slow; fewer queries")
    parser.add_argument(
        "--exact-compare", type=int, default=50, help="queries timing the exact scan (0: skip)"
    )
    parser.add_argument(
        "--overfetch",
        default=str(search.similarity.SEARCH_OVERFETCH),
        help="images asked of the index per product wanted without a filter (tuning; default: the app's); "
        "a filter gets it scaled by its estimated share, never under --min-overfetch. Several, comma-separated: "
        "each is a variant, timed query by query beside the others",
    )
    parser.add_argument(
        "--min-overfetch",
        type=int,
        default=search.similarity.SEARCH_MIN_OVERFETCH,
        help="the least over-fetch a narrow filter gets (tuning; default: the app's)",
    )
    parser.add_argument(
        "--deep-max-share",
        type=float,
        default=search.similarity.SEARCH_DEEP_MAX_SHARE,
        help="a filter keeping at most this share of the catalog is searched for a quarter of the images it "
        "passes (tuning; default: the app's; 0: never)",
    )
    parser.add_argument(
        "--compare-index",
        help="JSON index options for a second index on the same nodes, timed query by query beside the first, "
        'e.g. \'{"vector.quantization.type": "SCALAR"}\'',
    )
    parser.add_argument(
        "--keep-compare-index",
        action="store_true",
        help="leave the --compare-index index and labels in place; a later run with the same options reuses it",
    )
    parser.add_argument(
        "--compare-only",
        action="store_true",
        help="with --compare-index: time the second index alone (no rows for the first)",
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
    parser.add_argument(
        "--rebuild-index", action="store_true", help="with --reuse: time a rebuild of the vector index alone"
    )
    args = parser.parse_args()
    search.similarity.SEARCH_OVERFETCH = int(args.overfetch.split(",")[0])
    search.similarity.SEARCH_MIN_OVERFETCH = args.min_overfetch
    search.similarity.SEARCH_DEEP_MAX_SHARE = args.deep_max_share
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {os.getloadavg()}; "
        f"index options {graph_store().index_config}; over-fetch {args.overfetch} (filters: scaled by share, "
        f"at least {args.min_overfetch}; deeper up to a share of {args.deep_max_share}); vectors: {args.vectors}",
        flush=True,
    )
    # Each size's tables are printed as soon as it is done: a long run cut short still leaves results.
    for size in (int(s) for s in args.sizes.split(",")):
        lines = run(size, args, np.random.default_rng(42))
        print(
            "| images | load s | index build s | total s | store on disk MB | how | load avg (1 min) at end |"
        )
        print("|---|---|---|---|---|---|---|")
        print(lines[0])
        print()
        print(
            "| images | filter | products kept | estimated, images searched for | p50 / p95 ms | p50 vs no filter | recall@10 |"
        )
        print("|---|---|---|---|---|---|---|")
        print("\n".join(lines[1:]))
        print(flush=True)
        print(server_memory(), flush=True)
        print(f"done {size:,} at load average {os.getloadavg()}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
