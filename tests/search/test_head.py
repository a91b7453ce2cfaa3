"""The trained head (search/head.py) and how a fit uses it with augmented views (search/fitting.py)."""

from __future__ import annotations

import numpy as np

from search.fitting import _fitted
from search.head import HeadSettings, head_train
from search.projection import project, projection_fit
from tests.search.test_projection import _catalog, _first_result_rate


def _whitened_and_headed(vectors, labels, *, seed: int = 0):
    base = projection_fit(vectors, products=labels, categories=labels // 3)
    assert base is not None
    return base, head_train(vectors, labels, base=base, settings=HeadSettings(epochs=10), seed=seed)


def test_head_is_one_matrix_after_the_whitening_and_keeps_its_mean():
    vectors, labels = _catalog(products=20, photos=5)
    base, headed = _whitened_and_headed(vectors, labels)
    assert headed.matrix.shape == base.matrix.shape and headed.matrix.dtype == np.float32
    assert np.array_equal(headed.mean, base.mean)
    assert not np.allclose(headed.matrix, base.matrix)  # it did train
    out = project(vectors[:4], headed)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_head_training_is_repeatable_for_a_seed():
    vectors, labels = _catalog(products=20, photos=4)
    _, first = _whitened_and_headed(vectors, labels, seed=3)
    _, again = _whitened_and_headed(vectors, labels, seed=3)
    assert np.array_equal(first.matrix, again.matrix)


def test_head_generalises_to_new_photos_of_the_products():
    vectors, labels = _catalog(products=30, photos=6)
    queries, query_labels = _catalog(products=30, photos=3, photo_seed=1)
    base, headed = _whitened_and_headed(vectors, labels)
    identity = _first_result_rate(vectors, labels, queries, query_labels, None)
    whitened = _first_result_rate(vectors, labels, queries, query_labels, base)
    trained = _first_result_rate(vectors, labels, queries, query_labels, headed)
    assert trained > identity + 0.1
    assert trained >= whitened - 0.02  # pulled towards the identity: never far from the whitening


def _rows(vectors, labels):
    from search.stored_vectors import vector_to_bytes

    return [(int(p), int(p) // 3, vector_to_bytes(v)) for p, v in zip(labels, vectors, strict=True)]


def test_fit_trains_the_head_only_where_the_catalog_photos_group_by_product():
    vectors, labels = _catalog(products=30, photos=4)
    views, view_labels = _catalog(products=30, photos=2, photo_seed=2)
    positions = np.array([np.flatnonzero(labels == p)[0] for p in view_labels])
    projection, trained = _fitted(
        _rows(vectors, labels),
        shrinkage=0.2,
        dimensions=None,
        extra=views,
        extra_positions=positions,
        head=HeadSettings(epochs=2),
    )
    assert projection is not None and trained

    # One photo per product: the views alone make groups for the whitening, but no head is trained on them.
    ones = np.array([np.flatnonzero(labels == p)[0] for p in range(30)])
    projection, trained = _fitted(
        _rows(vectors[ones], labels[ones]),
        shrinkage=0.2,
        dimensions=None,
        extra=views,
        extra_positions=view_labels,
        head=HeadSettings(epochs=2),
    )
    assert projection is not None and projection.grouping == "product" and not trained
    # ...and without views such a catalog is served the identity, as before.
    projection, trained = _fitted(
        _rows(vectors[ones], labels[ones]),
        shrinkage=0.2,
        dimensions=None,
        extra=np.zeros((0, vectors.shape[1]), dtype=np.float32),
        extra_positions=np.zeros(0, dtype=np.int64),
        head=HeadSettings(epochs=2),
    )
    assert projection is None and not trained
