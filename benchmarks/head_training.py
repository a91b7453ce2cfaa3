"""A linear head trained with a metric-learning loss on the catalog's own photos (and augmented views of
them), against the identity and the whitening, on the held-out splits of benchmarks/retrieval_splits.py.

    .venv/bin/python -m benchmarks.head_training [--dataset DIR] [--seeds 0,1,2] [--splits all,three,iconic,unseen]
        [--fits identity,whitening,whitening+views,head+views] [--query-flip] [--tune] [--power A] [--flip-views]

Inputs are cached: the photos' raw embeddings (benchmarks/embedding_cache.py) and embeddings of augmented
views of every photo (benchmarks/augmented_views.py, made once with the real CNN). A fit only ever sees its
split's fit rows and their views; the queries are never in it.

Fits (each a mean and a matrix, i.e. a `Projection`, so it serves exactly as the whitening does):
  whitening        search/projection.py on the fit rows (`--no-head`)
  whitening+views  the same, with the fit rows' augmented views in the within-product scatter
  head             a 1,280 x 1,280 matrix on top of the whitening, trained on the fit rows (no views; the served default)
  head+views       a 1,280 x 1,280 matrix on top of whitening+views, initialised at the identity and trained
                   with a normalised-softmax (proxy) loss on product ids over the fit rows and their views,
                   pulled towards its initial value (weight decay to the identity): search/head.py
  head+stepsN      the head trained for at least N optimiser steps (more epochs on a small catalog: at 256
                   photos per batch, 10 epochs of 243 photos are 10 steps)
  validated        whitening, head, head+steps100 or head+steps300, whichever ranks a held-out quarter of
                   the fit rows' own photos best (products with 3 or more photos; never a query photo),
                   then refitted on all the fit rows
  whitening+totalS the whitening shrunk (share S) towards the total covariance instead of the identity

`--power A`: every embedding raised to the power A (signed) and renormalised first, identity included.
`--flip-views`: each photo's mirror image (a cache made with --flips) is its one augmented view.

`--tune`: a grid of the head's hyper-parameters on a seed that is never scored (default 10).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from benchmarks._setup import arguments_with_dataset
from benchmarks.embedding_cache import CACHE_DIR, embeddings_cache
from benchmarks.mirror_views import mirrored_load, queries_ordered
from benchmarks.retrieval_splits import Photos, Split, metrics, splits
from search.head import HeadSettings, head_train
from search.projection import Projection, _whitening, normalised, project, projection_fit

Fit = Callable[[Photos, np.ndarray, np.ndarray, Split], Projection | None]


def training_set(photos: Photos, views: np.ndarray, done: np.ndarray, rows: np.ndarray, *, with_views: bool):
    """The fit rows' vectors and labels, and with `with_views` their augmented views (every view slot that
    is embedded for all of the rows; none embedded is an error, not a silent fit without views)."""
    vectors = photos.plain[rows]
    products, categories = photos.product[rows], photos.category[rows]
    if with_views:
        slots = np.flatnonzero(done[rows].all(axis=0))
        if not len(slots):
            raise ViewsMissing(f"no view slot is embedded for all {len(rows)} fit rows")
        extra = views[rows][:, slots].reshape(-1, views.shape[2])
        vectors = np.concatenate([vectors, extra])
        products = np.concatenate([products, np.repeat(products, len(slots))])
        categories = np.concatenate([categories, np.repeat(categories, len(slots))])
    return vectors, products, categories


class ViewsMissing(LookupError):
    pass


def epochs_for_steps(rows: int, settings: HeadSettings, min_steps: int) -> int:
    batches = -(-rows // settings.batch)
    return max(settings.epochs, -(-min_steps // batches))


def validation_held(products: np.ndarray, seed: int = 0) -> np.ndarray:
    """A quarter (at least one) of the photos of each product with 3 or more, as a mask over the fit rows."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(products), dtype=bool)
    for product in np.unique(products):
        rows = np.flatnonzero(products == product)
        if len(rows) >= 3:
            held[rng.choice(rows, size=max(1, round(len(rows) * 0.25)), replace=False)] = True
    return held


def first_result_rate(projection: Projection | None, vectors, products, held) -> float:
    catalog, queries = project(vectors[~held], projection), project(vectors[held], projection)
    scores = queries @ catalog.T
    keys = np.unique(products[~held])
    best = np.stack([scores[:, products[~held] == key].max(axis=1) for key in keys], axis=1)
    return float((keys[best.argmax(axis=1)] == products[held]).mean())


def fits(settings: HeadSettings) -> dict[str, Fit]:
    def whitening(with_views: bool) -> Fit:
        def fit(photos: Photos, views: np.ndarray, done: np.ndarray, split: Split) -> Projection | None:
            vectors, products, categories = training_set(
                photos, views, done, split.fit, with_views=with_views
            )
            return projection_fit(vectors, products=products, categories=categories)

        return fit

    def head(with_views: bool) -> Fit:
        def fit(photos: Photos, views: np.ndarray, done: np.ndarray, split: Split) -> Projection | None:
            vectors, products, categories = training_set(
                photos, views, done, split.fit, with_views=with_views
            )
            base = projection_fit(vectors, products=products, categories=categories)
            if base is None:  # too few groups for a whitening: nothing to train a head on either
                return None
            return head_train(vectors, products, base=base, settings=settings)

        return fit

    def trained(vectors, products, categories, min_steps: int | None) -> Projection | None:
        base = projection_fit(vectors, products=products, categories=categories)
        if base is None or min_steps is None:
            return base
        epochs = epochs_for_steps(len(vectors), settings, min_steps)
        return head_train(vectors, products, base=base, settings=replace(settings, epochs=epochs))

    def steps(min_steps: int) -> Fit:
        def fit(photos: Photos, views: np.ndarray, done: np.ndarray, split: Split) -> Projection | None:
            vectors, products, categories = training_set(photos, views, done, split.fit, with_views=False)
            return trained(vectors, products, categories, min_steps)

        return fit

    def validated(photos: Photos, views: np.ndarray, done: np.ndarray, split: Split) -> Projection | None:
        vectors, products, categories = training_set(photos, views, done, split.fit, with_views=False)
        held = validation_held(products)
        candidates: tuple[int | None, ...] = (None, 0, 100, 300)  # whitening, head, head+steps100, +steps300
        best, best_rate = None, -1.0
        if held.any():
            for min_steps in candidates:
                projection = trained(vectors[~held], products[~held], categories[~held], min_steps)
                rate = first_result_rate(projection, vectors, products, held)
                if rate > best_rate + 1e-9:
                    best, best_rate = min_steps, rate
        print(f"    validated {split.name}: {best} ({best_rate:.3f} on {held.sum()} held)", flush=True)
        return trained(vectors, products, categories, best)

    def total_prior(share: float) -> Fit:
        """The whitening shrunk towards the catalog's total covariance (scaled to the same trace) instead of
        the identity: PCA-whitening as the prior where the within-product scatter says too little."""

        def fit(photos: Photos, views: np.ndarray, done: np.ndarray, split: Split) -> Projection | None:
            vectors, products, _ = training_set(photos, views, done, split.fit, with_views=False)
            vectors = vectors.astype(np.float64)
            keys, inverse = np.unique(products, return_inverse=True)
            means = np.zeros((len(keys), vectors.shape[1]))
            np.add.at(means, inverse, vectors)
            means /= np.bincount(inverse)[:, None]
            within = (vectors - means[inverse]).T @ (vectors - means[inverse]) / len(vectors)
            centred = vectors - vectors.mean(axis=0)
            total = centred.T @ centred / len(vectors)
            scatter = (1 - share) * within + share * total * np.trace(within) / np.trace(total)
            scatter += 1e-6 * np.trace(within) / len(within) * np.eye(len(within))
            return Projection(
                mean=vectors.mean(axis=0).astype(np.float32),
                matrix=_whitening(scatter).astype(np.float32),
                grouping="product",
                groups=len(keys),
            )

        return fit

    return {
        "identity": lambda photos, views, done, split: None,
        "whitening+total0.2": total_prior(0.2),
        "whitening+total0.5": total_prior(0.5),
        "whitening": whitening(False),
        "whitening+views": whitening(True),
        "head": head(with_views=False),
        "head+views": head(with_views=True),
        "head+steps100": steps(100),
        "head+steps300": steps(300),
        "validated": validated,
    }


def views_load(dataset, backbone: str, photos: Photos) -> tuple[np.ndarray, np.ndarray]:
    """The augmented views and which (photo, view) are embedded (an older file: the first `done` photos;
    no file: none)."""
    path = CACHE_DIR / f"{backbone}-{dataset.resolve().name}-augmented.npz"
    if not path.exists():
        return np.zeros((len(photos.plain), 0, photos.plain.shape[1]), dtype=np.float32), np.zeros(
            (len(photos.plain), 0), dtype=bool
        )
    data = np.load(path)
    done = data["done"]
    if done.ndim == 0:
        done = np.repeat((np.arange(len(photos.plain)) < int(done))[:, None], data["views"].shape[1], axis=1)
    return data["views"], done


def table(
    photos: Photos,
    views: np.ndarray,
    done: np.ndarray,
    chosen: dict[str, Fit],
    seeds: list[int],
    wanted: list[str],
    *,
    flip_seeds: frozenset[int] = frozenset(),
) -> None:
    """On `flip_seeds`, each fit is also scored with flip-averaged queries (the catalog as stored)."""
    print(
        "| split | fit | seed | P@1 | top-5 | coarse P@1 | strip | fit s |\n|---|---|---|---|---|---|---|---|"
    )
    totals: dict[tuple[str, str], list[np.ndarray]] = {}
    for seed in seeds:
        for split in splits(photos, seed=seed):
            if split.name not in wanted:
                continue
            for name, fit in chosen.items():
                started = time.perf_counter()
                try:
                    projection = fit(photos, views, done, split)
                except ViewsMissing as exc:
                    print(f"| {split.name} | {name} | {seed} | {exc} |", flush=True)
                    continue
                fit_s = time.perf_counter() - started
                for flipped in (False, True) if seed in flip_seeds else (False,):
                    label = f"{name}+query flip" if flipped else name
                    row = metrics(photos, split, projection, query_flip=flipped)
                    values = np.array([*row.values(), fit_s])
                    totals.setdefault((split.name, label), []).append(values)
                    cells = " | ".join(f"{v:.3f}" for v in values[:-1])
                    print(f"| {split.name} | {label} | {seed} | {cells} | {fit_s:.1f} |", flush=True)
    print(f"\nmean of seeds {seeds} (n: seeds with the fit)\n")
    print("| split | fit | n | P@1 | top-5 | coarse P@1 | strip | fit s |\n|---|---|---|---|---|---|---|---|")
    for (split_name, name), rows in totals.items():
        mean = np.mean(rows, axis=0)
        cells = " | ".join(f"{v:.3f}" for v in mean[:-1])
        print(f"| {split_name} | {name} | {len(rows)} | {cells} | {mean[-1]:.1f} |", flush=True)


def tune(
    photos: Photos, views: np.ndarray, done: np.ndarray, seed: int, wanted: list[str], *, with_views: bool
) -> None:
    grid = itertools.product((10, 30), (3e-4, 1e-3), (0.05, 0.1), (1e-4, 1e-3, 1e-2))
    print(f"tuning seed {seed}, views: {with_views}")
    print("| split | epochs | lr | temperature | decay | P@1 | top-5 | coarse P@1 | strip | fit s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    bases = {}
    for split in splits(photos, seed=seed):
        if split.name not in wanted:
            continue
        vectors, products, categories = training_set(photos, views, done, split.fit, with_views=with_views)
        base = projection_fit(vectors, products=products, categories=categories)
        if base is None:
            continue
        bases[split.name] = (split, vectors, products, base)
        row = metrics(photos, split, None)
        print(f"| {split.name} | identity | | | | " + " | ".join(f"{v:.3f}" for v in row.values()) + " | |")
        row = metrics(photos, split, base)
        print(f"| {split.name} | whitening | | | | " + " | ".join(f"{v:.3f}" for v in row.values()) + " | |")
    for epochs, rate, temperature, decay in grid:
        settings = HeadSettings(epochs=epochs, learning_rate=rate, temperature=temperature, decay=decay)
        for split, vectors, products, base in bases.values():
            started = time.perf_counter()
            projection = head_train(vectors, products, base=base, settings=settings)
            fit_s = time.perf_counter() - started
            row = metrics(photos, split, projection)
            cells = " | ".join(f"{v:.3f}" for v in row.values())
            print(
                f"| {split.name} | {epochs} | {rate:g} | {temperature:g} | {decay:g} | {cells} | {fit_s:.1f} |",
                flush=True,
            )


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--splits", default="all,three,iconic,unseen")
    parser.add_argument("--fits", default="identity,whitening,whitening+views,head+views")
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--tune-views", action="store_true", help="tune the head with augmented views")
    parser.add_argument("--tune-seed", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=HeadSettings.epochs)
    parser.add_argument("--learning-rate", type=float, default=HeadSettings.learning_rate)
    parser.add_argument("--temperature", type=float, default=HeadSettings.temperature)
    parser.add_argument("--decay", type=float, default=HeadSettings.decay)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--flip-views", action="store_true", help="the mirror images are the views")
    parser.add_argument("--power", type=float, default=1.0, help="signed power of every embedding first")
    parser.add_argument("--max-views", type=int, default=0, help="use at most this many view slots (0: all)")
    parser.add_argument(
        "--query-flip",
        action="store_true",
        help="also score each fit with flip-averaged queries (the cache's flips, else the seeds with "
        "benchmarks.mirror_views done)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    photos = Photos.load(str(embeddings_cache(args.dataset, args.backbone)))
    views, done = views_load(args.dataset, args.backbone, photos)
    if args.flip_views:  # each photo's mirror image (a cache made with --flips) as its one augmented view
        views, done = photos.flipped[:, None, :], np.full((len(photos.plain), 1), photos.has_flips)
    if args.power != 1.0:

        def powered(vectors: np.ndarray) -> np.ndarray:
            return normalised(np.sign(vectors) * np.abs(vectors) ** args.power)

        photos = replace(photos, plain=powered(photos.plain), flipped=powered(photos.flipped))
        views = powered(views) if views.size else views
    if args.max_views:
        views, done = views[:, : args.max_views], done[:, : args.max_views]
    wanted = args.splits.split(",")
    if args.tune:
        tune(photos, views, done, args.tune_seed, wanted, with_views=args.tune_views)
        return
    settings = HeadSettings(
        epochs=args.epochs, learning_rate=args.learning_rate, temperature=args.temperature, decay=args.decay
    )
    available = fits(settings)
    chosen = {name: available[name] for name in args.fits.split(",")}
    seeds = [int(s) for s in args.seeds.split(",")]
    flip_seeds: frozenset[int] = frozenset()
    if args.query_flip and photos.has_flips:  # a cache made with --flips: every photo's mirror image
        flip_seeds = frozenset(seeds)
    elif args.query_flip:
        mirrored, mirrored_done = mirrored_load(args.dataset, args.backbone, photos)
        photos = replace(
            photos, flipped=np.where(mirrored_done[:, None], mirrored, photos.plain), has_flips=True
        )
        flip_seeds = frozenset(s for s in seeds if mirrored_done[queries_ordered(photos, [s])].all())
        print(f"query flip on seeds {sorted(flip_seeds)} (their queries' mirror images are embedded)")
    table(photos, views, done, chosen, seeds, wanted, flip_seeds=flip_seeds)


if __name__ == "__main__":
    main()
