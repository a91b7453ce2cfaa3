"""The projection fit in NumPy: what it learns from groups, when it falls back, and that it never lets
a product's photo spread dominate."""

from __future__ import annotations

import numpy as np
import pytest

from search.projection import (
    MIN_GROUPS,
    MIN_PRODUCT_GROUPED_PHOTOS,
    grouping_choose,
    normalised,
    project,
    projection_fit,
)


def _catalog(*, products: int, photos: int, photo_seed: int = 0, nuisance: float = 3.0):
    """Products whose photos differ mostly along a few shared "nuisance" directions (light, angle); the
    products are always the same, `photo_seed` draws new photos of them."""
    world = np.random.default_rng(0)
    d = 64
    centres = world.normal(size=(products, d))
    nuisance_dirs = world.normal(size=(4, d))
    rng = np.random.default_rng(1000 + photo_seed)
    rows, labels = [], []
    for product in range(products):
        for _ in range(photos):
            rows.append(
                centres[product] + nuisance * rng.normal(size=4) @ nuisance_dirs + 0.3 * rng.normal(size=d)
            )
            labels.append(product)
    return normalised(np.array(rows)), np.array(labels)


def _first_result_rate(catalog, catalog_labels, queries, query_labels, projection) -> float:
    scores = project(queries, projection) @ project(catalog, projection).T
    return float((catalog_labels[scores.argmax(axis=1)] == query_labels).mean())


def test_fit_learns_to_ignore_the_within_product_spread():
    vectors, labels = _catalog(products=30, photos=6)
    queries, query_labels = _catalog(products=30, photos=3, photo_seed=1)  # same products, new photos
    projection = projection_fit(
        vectors, products=labels, categories=labels // 3, shrinkage=0.2, dimensions=None
    )
    assert projection is not None and projection.grouping == "product"
    identity = _first_result_rate(vectors, labels, queries, query_labels, None)
    fitted = _first_result_rate(vectors, labels, queries, query_labels, projection)
    assert fitted > identity + 0.1


def test_projected_vectors_are_unit_and_sized_by_dimensions():
    vectors, labels = _catalog(products=20, photos=4)
    projection = projection_fit(vectors, products=labels, categories=labels // 2, dimensions=8)
    assert projection is not None and projection.dimensions == 8
    out = project(vectors[:5], projection)
    assert out.shape == (5, 8) and np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    # never more directions than there are groups minus one
    assert projection_fit(vectors, products=labels, categories=labels // 2, dimensions=500).dimensions == 19


def test_identity_projection_only_normalises():
    vectors = np.array([[3.0, 4.0], [0.0, 2.0]])
    assert np.allclose(project(vectors, None), [[0.6, 0.8], [0.0, 1.0]])


def test_one_photo_per_product_is_the_identity():
    vectors, labels = _catalog(products=40, photos=1)
    assert projection_fit(vectors, products=labels, categories=labels // 4) is None


def test_one_photo_per_product_falls_back_to_categories_when_enabled(monkeypatch):
    monkeypatch.setattr("search.projection.CATEGORY_FALLBACK", True)
    vectors, labels = _catalog(products=40, photos=1)
    grouping, groups = grouping_choose(labels.tolist(), (labels // 4).tolist())
    assert grouping == "category" and groups is not None
    projection = projection_fit(vectors, products=labels, categories=labels // 4)
    assert projection is not None and projection.grouping == "category" and projection.groups == 10


def test_too_few_groups_is_the_identity():
    vectors, labels = _catalog(products=MIN_GROUPS - 1, photos=5)
    assert projection_fit(vectors, products=labels, categories=labels) is None
    one_each, one_labels = _catalog(products=30, photos=1)
    assert projection_fit(one_each, products=one_labels, categories=one_labels) is None  # no group has two


def test_few_multi_photo_products_are_the_identity():
    # Enough products with two photos to count, but fewer photos in them than the product threshold.
    products = MIN_PRODUCT_GROUPED_PHOTOS // 2 - 1
    vectors, labels = _catalog(products=products, photos=2)
    grouping, _ = grouping_choose(labels.tolist(), (labels // 3).tolist())
    assert grouping == "identity"


@pytest.mark.parametrize("shrinkage", [0.05, 1.0])
def test_fit_is_finite_with_more_dimensions_than_photos(shrinkage):
    vectors, labels = _catalog(products=40, photos=2)  # within-product scatter of rank 40 in 64 dimensions
    projection = projection_fit(
        vectors, products=labels, categories=labels, shrinkage=shrinkage, dimensions=None
    )
    assert projection is not None and np.isfinite(projection.matrix).all()


def test_cholesky_whitening_gives_the_symmetric_whitenings_cosines():
    """The fit whitens by Cholesky (fast); cosines must equal those of scatter^-1/2 (eigh)."""
    from search.projection import _whitening

    rng = np.random.default_rng(5)
    a = rng.normal(size=(40, 40))
    scatter = a @ a.T / 40 + 0.1 * np.eye(40)
    eigenvalues, eigenvectors = np.linalg.eigh(scatter)
    symmetric = eigenvectors / np.sqrt(eigenvalues)
    x, y = rng.normal(size=(2, 5, 40))
    cosines = normalised(x @ _whitening(scatter)) @ normalised(y @ _whitening(scatter)).T
    assert cosines == pytest.approx(normalised(x @ symmetric) @ normalised(y @ symmetric).T, abs=1e-5)
