"""Embeds augmented views of every photo of a labelled set once (random resized crop, flip, colour jitter),
for training a metric-learning head on the catalog's own photos without rerunning the CNN per experiment.

    .venv/bin/python -m benchmarks.augmented_views [--dataset DIR] [--views 2] [--max-minutes 10]
        [--first-seeds 0,1,2,10 --first-splits three,iconic]

Writes `var/embeddings/<backbone>-<dataset>-augmented.npz`: `views` (photos, views, dimensions), L2-normalised
as the app embeds (same decode, resize and centre crop after the augmentation), and `done` (photos, views:
which are embedded). View 0 of every photo comes before view 1; within a view, the fit rows of the
--first-splits of the --first-seeds come first (so a short run covers whole splits). Resumable: a run stops at
--max-minutes and the next one continues where it stopped.
Every view is seeded by (seed, photo, view), so the same command always makes the same views.
Which photos a head may train on is the splits' business (benchmarks/retrieval_splits.py `Split.fit`).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

from benchmarks._setup import arguments_with_dataset
from benchmarks.embedding_cache import CACHE_DIR, MAX_PIXELS, embeddings_cache
from benchmarks.retrieval_splits import Photos, splits
from core.images import RESIZE_PX
from search.embeddings import embedder_get, image_decode

SAVE_EVERY = 100

# Mild enough that the product stays in view: at least 35% of the photo's area, colours shifted a little
# (a shop's lighting), never recoloured (hue ±0.03: a red apple must not turn green).
AUGMENT = transforms.Compose(
    [
        transforms.RandomResizedCrop(RESIZE_PX, scale=(0.35, 1.0), ratio=(3 / 4, 4 / 3)),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.25, hue=0.03),
    ]
)


def view_augmented(image: Image.Image, *, seed: int, photo: int, view: int) -> Image.Image:
    torch.manual_seed(seed * 1_000_003 + photo * 101 + view)
    return AUGMENT(image)


def photos_ordered(photos: Photos, seeds: list[int], names: list[str]) -> list[int]:
    """Every photo once: the chosen splits' fit rows first (in seed order), then the rest."""
    first = [
        int(row)
        for seed in seeds
        for split in splits(photos, seed=seed)
        if split.name in names
        for row in split.fit
    ]
    ordered = list(dict.fromkeys(first))
    return ordered + sorted(set(range(len(photos.plain))) - set(ordered))


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--views", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=10.0)
    parser.add_argument("--first-seeds", default="")
    parser.add_argument("--first-splits", default="three,iconic")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cache_file = embeddings_cache(args.dataset, args.backbone)
    cache = np.load(cache_file)
    filenames = cache["filename"]
    seeds = [int(s) for s in args.first_seeds.split(",") if s]
    order = photos_ordered(Photos.load(str(cache_file)), seeds, args.first_splits.split(","))
    path = CACHE_DIR / f"{args.backbone}-{args.dataset.resolve().name}-augmented.npz"
    views = np.zeros((len(filenames), args.views, cache["plain"].shape[1]), dtype=np.float32)
    done = np.zeros((len(filenames), args.views), dtype=bool)
    if path.exists():
        previous = np.load(path)
        if previous["views"].shape == views.shape and int(previous["seed"]) == args.seed:
            views = previous["views"].copy()
            done = previous["done"].copy()
            if done.ndim == 0:  # a file from the first version: the first `done` photos, every view
                done = np.repeat(
                    (np.arange(len(filenames)) < int(previous["done"]))[:, None], args.views, axis=1
                )
    embedder = embedder_get(args.backbone)

    def save() -> None:
        np.savez(path, filename=filenames, views=views, done=done, seed=np.array(args.seed))

    todo = [(photo, view) for view in range(args.views) for photo in order if not done[photo, view]]
    started = time.perf_counter()
    embedded = 0
    while todo and time.perf_counter() - started < 60 * args.max_minutes:
        chunk, todo = todo[:SAVE_EVERY], todo[SAVE_EVERY:]
        images = [
            view_augmented(
                image_decode(str(args.dataset / filenames[photo]), max_pixels=MAX_PIXELS),
                seed=args.seed,
                photo=photo,
                view=view,
            )
            for photo, view in chunk
        ]
        for (photo, view), vector in zip(chunk, embedder.embed_many(images), strict=True):
            views[photo, view] = vector
            done[photo, view] = True
        embedded += len(chunk)
        save()
        elapsed = time.perf_counter() - started
        print(f"{int(done.sum())}/{done.size} views, {embedded / elapsed:.2f} views/s", flush=True)
    print(
        f"{path}: {int(done.sum())}/{done.size} views; this run {embedded} in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
