"""Embeds the mirror image of each photo a split scores as a query, for query-side flip averaging (the query's
and its mirror image's embeddings averaged; the catalog as stored), resumably, on a busy machine.

    .venv/bin/python -m benchmarks.mirror_views [--dataset DIR] [--seeds 0,1,2,3,4,5] [--max-minutes 8]

Writes `var/embeddings/<backbone>-<dataset>-mirrored.npz`: `vectors` (photos, dimensions) and `done` (photos).
The queries of the first seed come first, then the next seed's new ones, so a short run covers whole seeds;
a run stops at --max-minutes and the next one continues. benchmarks/head_training.py --query-flip scores the
seeds whose queries are all done.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from PIL import ImageOps

from benchmarks._setup import arguments_with_dataset
from benchmarks.embedding_cache import CACHE_DIR, MAX_PIXELS, embeddings_cache
from benchmarks.retrieval_splits import Photos, splits
from search.embeddings import Embedder, embedder_get, image_decode

SAVE_EVERY = 50  # photos per saved chunk: a stopped run loses at most this many


def mirrored_path(dataset: Path, backbone: str) -> Path:
    return CACHE_DIR / f"{backbone}-{dataset.resolve().name}-mirrored.npz"


def queries_ordered(photos: Photos, seeds: list[int]) -> list[int]:
    """Every seed's query rows (the same for all its splits), the first seed's first."""
    rows = [int(row) for seed in seeds for row in next(iter(splits(photos, seed=seed))).queries]
    return list(dict.fromkeys(rows))


def photos_cached(dataset: Path, backbone: str) -> tuple[Photos, np.ndarray]:
    """The cached embeddings and the photos' file names (relative to `dataset`)."""
    cache = embeddings_cache(dataset, backbone)
    return Photos.load(str(cache)), np.load(cache)["filename"]


def mirrors_embed(embedder: Embedder, dataset: Path, filenames: np.ndarray, rows) -> np.ndarray:
    """The embeddings of these rows' photos' mirror images, decoded as uploads are."""
    mirrors = (
        ImageOps.mirror(image_decode(str(dataset / filenames[row]), max_pixels=MAX_PIXELS)) for row in rows
    )
    return np.stack(list(embedder.embed_many(mirrors)))


def mirrored_load(dataset: Path, backbone: str, photos: Photos) -> tuple[np.ndarray, np.ndarray]:
    path = mirrored_path(dataset, backbone)
    if not path.exists():
        return np.zeros_like(photos.plain), np.zeros(len(photos.plain), dtype=bool)
    data = np.load(path)
    return data["vectors"].copy(), data["done"].copy()


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--seeds", default="0,1,2,3,4,5")
    parser.add_argument("--max-minutes", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photos, filenames = photos_cached(args.dataset, args.backbone)
    vectors, done = mirrored_load(args.dataset, args.backbone, photos)
    todo = [row for row in queries_ordered(photos, [int(s) for s in args.seeds.split(",")]) if not done[row]]
    embedder = embedder_get(args.backbone)
    path = mirrored_path(args.dataset, args.backbone)
    started, count = time.perf_counter(), 0
    for start in range(0, len(todo), SAVE_EVERY):
        if time.perf_counter() - started > 60 * args.max_minutes:
            break
        rows = todo[start : start + SAVE_EVERY]
        vectors[rows] = mirrors_embed(embedder, args.dataset, filenames, rows)
        done[rows] = True
        count += len(rows)
        np.savez(path, vectors=vectors, done=done)
    elapsed = time.perf_counter() - started
    print(f"{count} mirror images in {elapsed:.0f} s ({count / max(elapsed, 1e-9):.1f}/s); {done.sum()} done")


if __name__ == "__main__":
    main()
