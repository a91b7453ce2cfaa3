"""Where the similar-items strip's minimum score should sit under a fit: how full the strips stay at each
threshold, what kind of neighbour a threshold drops, and the scale of unrelated pairs, on the held-out splits
of benchmarks/retrieval_splits.py (cached embeddings, NumPy).

    .venv/bin/python -m benchmarks.strip_scores [--seeds 0,1,2] [--fits identity,head] [--splits all,three]

A product's strip is its 8 nearest other products by their best image pair, as SIMILAR_TO scores them.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks._setup import arguments_with_dataset
from benchmarks.embedding_cache import embeddings_cache
from benchmarks.head_training import fits, views_load
from benchmarks.retrieval_splits import STRIP_K, Photos, splits
from search.head import HeadSettings
from search.projection import project

THRESHOLDS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)


def product_pairs(photos: Photos, rows: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(products, products) best image-pair score (diagonal -inf), and each product's category."""
    products = photos.product[rows]
    keys = np.unique(products)
    scores = vectors @ vectors.T
    per_image = np.stack([scores[:, products == key].max(axis=1) for key in keys], axis=1)
    pairs = np.stack([per_image[products == key].max(axis=0) for key in keys])
    np.fill_diagonal(pairs, -np.inf)
    categories = np.array([photos.category[rows][products == key][0] for key in keys])
    return pairs, categories


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--splits", default="all,three")
    parser.add_argument("--fits", default="identity,head")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photos = Photos.load(str(embeddings_cache(args.dataset, args.backbone)))
    views, done = views_load(args.dataset, args.backbone, photos)
    available = fits(HeadSettings())
    header = " | ".join(f"kept at {t:g} (same class of dropped)" for t in THRESHOLDS)
    print(f"| split | fit | seed | strip p5 / median | unrelated pairs median / p90 | {header} |")
    print("|---|---|---|---|---|" + "---|" * len(THRESHOLDS))
    for seed in [int(s) for s in args.seeds.split(",")]:
        for split in splits(photos, seed=seed):
            if split.name not in args.splits.split(","):
                continue
            for name in args.fits.split(","):
                projection = available[name](photos, views, done, split)
                vectors = project(photos.plain[split.catalog], projection)
                pairs, categories = product_pairs(photos, split.catalog, vectors)
                order = np.argsort(-pairs, axis=1)[:, :STRIP_K]
                strip = np.take_along_axis(pairs, order, axis=1)
                same = categories[order] == categories[:, None]
                unrelated = pairs[np.isfinite(pairs) & (categories[:, None] != categories[None, :])]
                cells = []
                for threshold in THRESHOLDS:
                    dropped = strip < threshold
                    share_same = same[dropped].mean() if dropped.any() else 0.0
                    cells.append(f"{1 - dropped.mean():.1%} ({share_same:.0%})")
                print(
                    f"| {split.name} | {name} | {seed} | {np.percentile(strip, 5):.3f} / {np.median(strip):.3f} "
                    f"| {np.median(unrelated):.3f} / {np.percentile(unrelated, 90):.3f} | "
                    + " | ".join(cells)
                    + " |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
