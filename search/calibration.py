"""Score thresholds measured on the catalog's own photos when a projection is fitted (issue 12).

A fit sets its own score scale: the head lowers one catalog's cosines by ~0.12 and another's by ~0.02
(docs/benchmarks.md, "Catalog projection"), so a threshold measured on the grocery data need not suit another
shop. Two are estimated per fit, in NumPy on projected vectors, and stored with it (search/models.py):

- the good-match score (insights): the top score that best separates a search for a product the shop sells
  from one for a product it does not (Youden's J), with one photo of each product held out of a second fit as
  the "searches": its best score among its own product's other photos against its best among other products';
- the similar-items minimum: a high quantile of the cosines between photos of different categories, i.e.
  what unrelated products reach.

The second fit is nearly all the cost (~7 s of a 10k-image fit), so a fit makes it only if its good match
will be served (LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT); the similar-items minimum costs well under a second
and is always estimated. search/fitting.py `fit_calibrate_served` estimates a served fit's good match later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# Fewer held-out photos than this (products with two or more photos): no good-match estimate.
MIN_HELD_PHOTOS = 20
# The held-out fit is trained on at most this many photos (whole products drawn at random), so a large
# catalog pays a bounded second fit; the grocery catalogs measured had at most 1,984 photos.
HELD_FIT_MAX_PHOTOS = 4000
# Photos drawn for the unrelated products' score quantile (all their cross-category pairs are scored).
UNRELATED_PHOTOS = 2000
UNRELATED_QUANTILE = 0.9


def held_out_split(products: Sequence[int] | np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One random photo of each product with several (the held-out searches) and the photos kept for the
    held-out fit, both as row indices; products drawn whole until the kept photos reach HELD_FIT_MAX_PHOTOS."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(products)
    held: list[int] = []
    kept: list[int] = []
    for product in rng.permutation(np.unique(labels)):
        rows = np.flatnonzero(labels == product)
        if len(kept) + len(rows) > HELD_FIT_MAX_PHOTOS and kept:
            break
        if len(rows) >= 2:
            one = rng.integers(len(rows))
            held.append(rows[one])
            rows = np.delete(rows, one)
        kept.extend(rows)
    return np.sort(np.array(held, dtype=np.int64)), np.sort(np.array(kept, dtype=np.int64))


def youden_threshold(positives: np.ndarray, negatives: np.ndarray) -> float:
    """The score maximising the share of positives at or above it minus the share of negatives."""
    candidates = np.unique(np.concatenate([positives, negatives]))
    positive_share = 1 - np.searchsorted(np.sort(positives), candidates, side="left") / len(positives)
    negative_share = 1 - np.searchsorted(np.sort(negatives), candidates, side="left") / len(negatives)
    return float(candidates[int(np.argmax(positive_share - negative_share))])


def good_match_estimate(
    held: np.ndarray, held_products: np.ndarray, kept: np.ndarray, kept_products: np.ndarray
) -> float | None:
    """Youden's threshold between each held-out photo's best score among its own product's kept photos and
    its best among other products'. All unit vectors projected by a fit that never saw the held-out photos."""
    scores = held @ kept.T
    own = held_products[:, None] == kept_products[None, :]
    sold = np.where(own, scores, -np.inf).max(axis=1, initial=-np.inf)
    unsold = np.where(own, -np.inf, scores).max(axis=1, initial=-np.inf)
    both = np.isfinite(sold) & np.isfinite(unsold)
    if both.sum() < MIN_HELD_PHOTOS:
        return None
    return youden_threshold(sold[both], unsold[both])


def unrelated_draw(count: int, *, seed: int = 0) -> np.ndarray:
    """The rows (of `count` photos) whose cross-category pairs the similar-items minimum scores."""
    return np.random.default_rng(seed).permutation(count)[:UNRELATED_PHOTOS]


def similar_min_estimate(
    vectors: np.ndarray,
    categories: Sequence[int] | np.ndarray,
    *,
    seed: int = 0,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> float | None:
    """UNRELATED_QUANTILE of the cosines between photos of different categories (None: one category).
    `transform` (e.g. a fit's projection) is applied to the drawn photos only: projecting a 10k catalog
    whole to score 2,000 of its photos cost more than the quantile itself."""
    labels = np.asarray(categories)
    if len(np.unique(labels)) < 2:
        return None
    rows = unrelated_draw(len(vectors), seed=seed)
    drawn = vectors[rows] if transform is None else transform(vectors[rows])
    scores = drawn @ drawn.T
    first, second = np.triu_indices(len(rows), k=1)
    unrelated = labels[rows][first] != labels[rows][second]
    return float(np.quantile(scores[first[unrelated], second[unrelated]], UNRELATED_QUANTILE))
