"""The thresholds a fit calibrates on its own photos (search/calibration.py) against those measured by
benchmarks/good_match_threshold.py (good match) and benchmarks/strip_scores.py (similar-items minimum), on
the demo catalog (iconic photo + 3 shop photos per product), the splits of benchmarks/retrieval_splits.py and
"half": all's photos of half its products (those `unseen` fits on) as a catalog of its own (cached
embeddings, NumPy and the head, no CNN).

    .venv/bin/python -m benchmarks.threshold_calibration [--seeds 0,1,2] [--splits demo,all,three,half]

Each catalog is fitted as `fit_projection` fits it (whitening + head), then calibrated as search/fitting.py
does (`_calibrated`: a second fit without one photo per product). Prints a Markdown table: the good-match
score measured on held-out shop photos (see `measured`) and the calibrated one, and the share of strip slots kept at the calibrated minimum and at the global 0.1 (with
the share of the dropped neighbours that were of another coarse class).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from benchmarks._setup import SHOP_PHOTOS_PER_PRODUCT, arguments_with_dataset
from benchmarks.embedding_cache import embeddings_cache
from benchmarks.retrieval_splits import Photos, splits
from benchmarks.strip_scores import product_pairs
from search.calibration import good_match_estimate, held_out_split, similar_min_estimate, youden_threshold
from search.head import head_train
from search.projection import Projection, project, projection_fit

GLOBAL_SIMILAR_MIN = 0.1
STRIP_K = 8


def demo_rows(path: str) -> np.ndarray:
    """The photos `import_catalog` takes from the dataset (catalog/importers.py rows_from_grocery_store)."""
    data = np.load(path)
    names, kinds, labels = data["filename"], data["split"], data["label"]
    taken: dict[str, int] = {}
    rows = []
    for i in sorted(range(len(names)), key=lambda i: (kinds[i] != "iconic", names[i])):
        if kinds[i] == "train" and taken.get(labels[i], 0) < SHOP_PHOTOS_PER_PRODUCT:
            taken[labels[i]] = taken.get(labels[i], 0) + 1
        elif kinds[i] != "iconic":
            continue
        rows.append(i)
    return np.sort(np.array(rows))


def fitted(vectors: np.ndarray, products: np.ndarray, categories: np.ndarray) -> Projection | None:
    base = projection_fit(vectors, products=products.tolist(), categories=categories.tolist())
    return None if base is None else head_train(vectors, products, base=base)


def measured(photos: Photos, rows: np.ndarray, queries: np.ndarray, projection: Projection | None) -> float:
    """Youden's threshold on held-out shop photos of the catalog's products, as benchmarks/good_match_threshold.py
    measures it on the splits: sold, the best score among its product's photos; not sold, among the others'
    (the fit not refitted without the product: an approximation)."""
    queries = queries[np.isin(photos.product[queries], photos.product[rows])]
    scores = project(photos.plain[queries], projection) @ project(photos.plain[rows], projection).T
    own = photos.product[queries][:, None] == photos.product[rows][None, :]
    sold = np.where(own, scores, -np.inf).max(axis=1)
    return youden_threshold(sold, np.where(own, -np.inf, scores).max(axis=1))


def calibrate(photos: Photos, rows: np.ndarray, queries: np.ndarray) -> dict[str, float | None]:
    vectors, products = photos.plain[rows], photos.product[rows]
    categories = photos.category[rows]
    projection = fitted(vectors, products, categories)
    reference = measured(photos, rows, queries, projection)
    started = time.perf_counter()
    similar = similar_min_estimate(project(vectors, projection), categories)
    held, kept = held_out_split(products)
    held_fit = fitted(vectors[kept], products[kept], categories[kept])
    good = good_match_estimate(
        project(vectors[held], held_fit), products[held], project(vectors[kept], held_fit), products[kept]
    )
    seconds = time.perf_counter() - started
    pairs, pair_categories = product_pairs(photos, rows, project(vectors, projection))
    order = np.argsort(-pairs, axis=1)[:, :STRIP_K]
    strip = np.take_along_axis(pairs, order, axis=1)
    same = pair_categories[order] == pair_categories[:, None]

    def kept_at(threshold: float) -> tuple[float, float]:
        dropped = strip < threshold
        return float(1 - dropped.mean()), float(1 - same[dropped].mean()) if dropped.any() else 0.0

    return {
        "measured": reference,
        "good": good,
        "similar": similar,
        "kept": kept_at(similar if similar is not None else GLOBAL_SIMILAR_MIN),
        "kept_global": kept_at(GLOBAL_SIMILAR_MIN),
        "seconds": seconds,
    }


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--splits", default="demo,all,three,half")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = str(embeddings_cache(args.dataset, args.backbone))
    photos = Photos.load(path)
    wanted = args.splits.split(",")
    demo = demo_rows(path)
    demo_queries = np.setdiff1d(np.flatnonzero(photos.shop), demo)  # grocery_store_query_photos
    catalogs = [("demo", demo, demo_queries)] if "demo" in wanted else []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for split in splits(photos, seed=seed):
            if split.name in wanted:
                catalogs.append((f"{split.name} seed {seed}", split.catalog, split.queries))
            if split.name == "unseen" and "half" in wanted:  # all's photos of half the products, alone
                catalogs.append((f"half seed {seed}", split.fit, split.queries))
    print(
        "| catalog | photos / products | good match, measured | calibrated | similar min, calibrated | strip kept at it "
        f"(other class of dropped) | kept at {GLOBAL_SIMILAR_MIN} | calibration s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, rows, queries in catalogs:
        result = calibrate(photos, rows, queries)
        good, similar = result["good"], result["similar"]
        kept, other = result["kept"]  # type: ignore[misc]
        kept_global, other_global = result["kept_global"]  # type: ignore[misc]
        print(
            f"| {name} | {len(rows)} / {len(np.unique(photos.product[rows]))} "
            f"| {result['measured']:.3f} | {'—' if good is None else f'{good:.3f}'} | {'—' if similar is None else f'{similar:.3f}'} "
            f"| {kept:.1%} ({other:.0%}) | {kept_global:.1%} ({other_global:.0%}) | {result['seconds']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
