"""Flip averaging (the mean of a photo's and its mirror image's embeddings) against plain embeddings, on the
splits of benchmarks/retrieval_splits.py that need only part of the photos (one seed), and its query cost.

    .venv/bin/python -m benchmarks.flip_averaging [--dataset DIR] [--seed 0] [--splits three,iconic]

Only the rows those splits use are mirrored and embedded (the plain vectors come from the cache), so the
full set's mirror pass (2,721 CNN passes) is not needed. Identity and the projection (defaults), each plain
and flip-averaged (catalog, fit and queries alike). Query cost: wall time of embedding one photo, and of a
photo plus its mirror image, over the first 30 query photos (one at a time, as a search does).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch
from PIL import ImageOps

from benchmarks._setup import arguments_with_dataset
from benchmarks.embedding_cache import MAX_PIXELS
from benchmarks.mirror_views import mirrors_embed, photos_cached
from benchmarks.retrieval_splits import metrics, splits
from search.embeddings import embedder_get, image_decode
from search.projection import projection_fit


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--splits", default="three,iconic")
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photos, filenames = photos_cached(args.dataset, args.backbone)
    wanted = [s for s in splits(photos, seed=args.seed) if s.name in args.splits.split(",")]
    rows = np.unique(np.concatenate([np.concatenate([s.catalog, s.scored]) for s in wanted]))
    embedder = embedder_get(args.backbone)
    started = time.perf_counter()
    mirrored = mirrors_embed(embedder, args.dataset, filenames, rows)
    print(f"{len(rows)} mirror images embedded in {time.perf_counter() - started:.0f} s\n")
    flipped = photos.plain.copy()
    flipped[rows] = mirrored
    photos = replace(photos, flipped=flipped, has_flips=True)
    print("| split | projection | flip | P@1 | top-5 | coarse P@1 | strip |\n|---|---|---|---|---|---|---|")
    for split in wanted:
        for flip in (False, True):
            vectors = photos.vectors(flip=flip)
            fitted = projection_fit(
                vectors[split.fit], products=photos.product[split.fit], categories=photos.category[split.fit]
            )
            for label, projection in (("identity", None), ("fitted", fitted)):
                if label == "fitted" and projection is None:
                    continue
                row = metrics(photos, split, projection, flip=flip)
                cells = " | ".join(f"{value:.3f}" for value in row.values())
                print(f"| {split.name} | {label} | {'yes' if flip else 'no'} | {cells} |")
    timings: dict[str, list[float]] = {"photo": [], "photo + mirror": []}
    for row in wanted[0].scored[:30]:
        image = image_decode(str(args.dataset / filenames[row]), max_pixels=MAX_PIXELS)
        started = time.perf_counter()
        embedder.embed_one(image)
        timings["photo"].append(time.perf_counter() - started)
        started = time.perf_counter()
        embedder.embed_one(image)
        embedder.embed_one(ImageOps.mirror(image))
        timings["photo + mirror"].append(time.perf_counter() - started)
    print("\n| query embedding | median ms | p90 ms |\n|---|---|---|")
    for name, values in timings.items():
        print(f"| {name} | {1000 * np.median(values):.0f} | {1000 * np.percentile(values, 90):.0f} |")


if __name__ == "__main__":
    main()
