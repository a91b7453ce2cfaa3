"""Catalog/query splits of a labelled photo set and exact NumPy retrieval metrics on cached embeddings.

Every split holds its queries out of the catalog, and a projection is only ever fitted on catalog photos.
Splits (per seed, the same held-out queries for all of them):
  all        the catalog is every remaining shop photo of each product
  three      3 remaining shop photos per product
  iconic     the catalogue photo only (one per product: the fit falls back to categories)
  unseen     as `all`, but fitted on half the products only; scored on the other half's queries (the
             products a fit never saw, e.g. added after it)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from search.projection import Projection, project

QUERY_SHARE = 0.25
STRIP_K = 8


@dataclass(frozen=True)
class Photos:
    """Cached embeddings of a labelled set: one row per photo."""

    plain: np.ndarray
    flipped: np.ndarray
    product: np.ndarray  # int ids
    category: np.ndarray  # int ids
    shop: np.ndarray  # bool: a shop photo (else a catalogue photo)
    has_flips: bool = False  # `flipped` holds the mirror images' embeddings (else a copy of `plain`)

    @classmethod
    def load(cls, path: str) -> Photos:
        data = np.load(path)
        _, product = np.unique(data["label"], return_inverse=True)
        _, category = np.unique(data["coarse"], return_inverse=True)
        return cls(
            data["plain"],
            data["flipped"],
            product,
            category,
            data["split"] == "train",
            bool(data["has_flips"]),
        )

    def vectors(self, *, flip: bool) -> np.ndarray:
        if not flip:
            return self.plain
        mean = self.plain + self.flipped
        return mean / np.linalg.norm(mean, axis=1, keepdims=True)


@dataclass(frozen=True)
class Split:
    name: str
    catalog: np.ndarray  # row indices
    queries: np.ndarray
    fit: np.ndarray  # the catalog rows a projection may be fitted on
    scored: np.ndarray  # the queries the metrics are computed over


def splits(photos: Photos, *, seed: int) -> Iterator[Split]:
    rng = np.random.default_rng(seed)
    queries, rest, three = [], [], []
    for product in np.unique(photos.product):
        rows = rng.permutation(np.flatnonzero((photos.product == product) & photos.shop))
        held = max(1, round(len(rows) * QUERY_SHARE))
        queries.extend(rows[:held])
        rest.extend(rows[held:])
        three.extend(rows[held : held + 3])
    queries_, rest_, three_ = np.sort(queries), np.sort(rest), np.sort(three)
    iconic = np.flatnonzero(~photos.shop)
    products = np.unique(photos.product)
    seen = rng.permutation(products)[: len(products) // 2]
    rest_seen = rest_[np.isin(photos.product[rest_], seen)]
    queries_unseen = queries_[~np.isin(photos.product[queries_], seen)]
    yield Split("all", rest_, queries_, rest_, queries_)
    yield Split("three", three_, queries_, three_, queries_)
    if len(iconic):
        yield Split("iconic", iconic, queries_, iconic, queries_)
    yield Split("unseen", rest_, queries_, rest_seen, queries_unseen)


def _best_per_product(scores: np.ndarray, image_products: np.ndarray, n_products: int) -> np.ndarray:
    """(n, images) scores → (n, products) best image score per product (-inf where a product has none)."""
    best = np.full((scores.shape[0], n_products), -np.inf, dtype=np.float32)
    for product in np.unique(image_products):
        best[:, product] = scores[:, image_products == product].max(axis=1)
    return best


def metrics(
    photos: Photos,
    split: Split,
    projection: Projection | None,
    *,
    flip: bool = False,
    query_flip: bool = False,
) -> dict[str, float]:
    """First-result rate, top-5 and the similar-items strip's share of the product's coarse class.
    `flip`: catalog and queries flip-averaged; `query_flip`: the queries only (the catalog as stored)."""
    catalog = project(photos.vectors(flip=flip)[split.catalog], projection)
    queries = project(photos.vectors(flip=flip or query_flip)[split.scored], projection)
    n_products = int(photos.product.max()) + 1
    catalog_products = photos.product[split.catalog]
    ranked = np.argsort(-_best_per_product(queries @ catalog.T, catalog_products, n_products), axis=1)
    truth = photos.product[split.scored][:, None]
    category_of = np.zeros(n_products, dtype=int)
    category_of[photos.product] = photos.category
    # Strip: a product's neighbours by best image pair, as SIMILAR_TO scores them.
    pair = _best_per_product(catalog @ catalog.T, catalog_products, n_products)
    present = np.unique(catalog_products)
    strip = np.full((n_products, n_products), -np.inf, dtype=np.float32)
    for product in present:
        strip[product] = pair[catalog_products == product].max(axis=0)
    np.fill_diagonal(strip, -np.inf)
    neighbours = np.argsort(-strip[present], axis=1)[:, :STRIP_K]
    return {
        "P@1": float((ranked[:, 0] == truth[:, 0]).mean()),
        "top-5": float((ranked[:, :5] == truth).any(axis=1).mean()),
        "coarse P@1": float((category_of[ranked[:, 0]] == photos.category[split.scored]).mean()),
        "strip": float((category_of[neighbours] == category_of[present][:, None]).mean()),
    }


def averaged(
    photos: Photos,
    fit: Callable[[Photos, Split], Projection | None],
    *,
    seeds: tuple[int, ...] = (0, 1, 2),
    flip: bool = False,
) -> dict[str, dict[str, float]]:
    """Per split name, each metric averaged over the seeds; `fit` sees only the split's fit rows."""
    totals: dict[str, dict[str, float]] = {}
    for seed in seeds:
        for split in splits(photos, seed=seed):
            result = metrics(photos, split, fit(photos, split), flip=flip)
            row = totals.setdefault(split.name, dict.fromkeys(result, 0.0))
            for key, value in result.items():
                row[key] += value / len(seeds)
    return totals
