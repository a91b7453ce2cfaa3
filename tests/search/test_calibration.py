"""The thresholds a fit calibrates on its own photos (search/calibration.py)."""

from __future__ import annotations

import numpy as np
import pytest

from search import calibration
from search.calibration import (
    good_match_estimate,
    held_out_split,
    similar_min_estimate,
    youden_threshold,
)
from search.projection import normalised


def _catalog(spread: float, *, products: int = 60, photos: int = 4, seed: int = 0):
    """Products as random directions in 64 dimensions, each photo its product's plus noise of norm ~spread."""
    rng = np.random.default_rng(seed)
    centres = normalised(rng.normal(size=(products, 64)))
    labels = np.repeat(np.arange(products), photos)
    noise = rng.normal(size=(len(labels), 64)) * spread / 8
    return normalised(centres[labels] + noise), labels


def _estimate(vectors: np.ndarray, labels: np.ndarray) -> float | None:
    held, kept = held_out_split(labels)
    return good_match_estimate(vectors[held], labels[held], vectors[kept], labels[kept])


def test_youden_threshold_is_the_lowest_score_of_a_clean_separation():
    assert youden_threshold(np.array([0.5, 0.6, 0.9]), np.array([0.1, 0.3, 0.45])) == 0.5


def test_youden_threshold_weighs_both_shares():
    # At 0.4: every positive, one negative in four (J 0.75); at 0.5, above every negative: two positives in
    # three (J 0.67).
    positives, negatives = np.array([0.4, 0.5, 0.9]), np.array([0.0, 0.1, 0.3, 0.45])
    assert youden_threshold(positives, negatives) == 0.4


def test_held_out_split_holds_one_photo_of_each_product_with_several():
    labels = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    held, kept = held_out_split(labels, seed=3)
    assert sorted(labels[held].tolist()) == [0, 1, 3]  # product 2 has one photo: never held out
    assert set(held).isdisjoint(kept) and sorted([*held, *kept]) == list(range(len(labels)))


def test_held_out_fit_takes_whole_products_up_to_its_cap(monkeypatch):
    monkeypatch.setattr(calibration, "HELD_FIT_MAX_PHOTOS", 7)
    labels = np.repeat(np.arange(10), 3)
    held, kept = held_out_split(labels)
    assert len(kept) <= 7
    taken = set(labels[kept].tolist())
    assert set(labels[held].tolist()) == taken  # each product drawn gives one search and the rest kept
    assert all((labels[kept] == p).sum() == 2 for p in taken)


def test_good_match_lies_between_a_sold_and_an_unsold_products_scores():
    vectors, labels = _catalog(spread=0.6)
    held, kept = held_out_split(labels)
    threshold = _estimate(vectors, labels)
    scores = vectors[held] @ vectors[kept].T
    own = labels[held][:, None] == labels[kept][None, :]
    assert np.median(np.where(own, -np.inf, scores).max(axis=1)) < threshold
    assert threshold <= np.median(np.where(own, scores, -np.inf).max(axis=1))


def test_good_match_follows_the_catalogs_score_scale():
    tight, loose = _estimate(*_catalog(spread=0.4)), _estimate(*_catalog(spread=1.2))
    assert tight is not None and loose is not None
    assert tight > loose + 0.1


def test_no_good_match_from_too_few_searches():
    vectors, labels = _catalog(spread=0.6, products=calibration.MIN_HELD_PHOTOS - 1)
    assert _estimate(vectors, labels) is None


def test_similar_minimum_is_what_products_of_other_categories_reach():
    # Category 0 along one axis, category 1 at cosine 0.3 from it: every cross pair scores 0.3, every pair
    # within a category 1.0, so any same-category pair counted would lift the quantile to 1.
    angle = np.arccos(0.3)
    vectors = np.array([[1.0, 0.0]] * 30 + [[np.cos(angle), np.sin(angle)]] * 5, dtype=np.float32)
    categories = [0] * 30 + [1] * 5
    assert similar_min_estimate(vectors, categories) == pytest.approx(0.3, abs=1e-5)


def test_no_similar_minimum_from_a_single_category():
    vectors, labels = _catalog(spread=0.6)
    assert similar_min_estimate(vectors, np.zeros(len(labels))) is None
