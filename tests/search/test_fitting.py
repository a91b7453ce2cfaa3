"""A fit's thresholds calibrated at fit time (search/fitting.py `_calibrated`), on synthetic stored vectors."""

from __future__ import annotations

import numpy as np

from search.embeddings import vector_to_bytes
from search.fitting import _calibrated, _fitted
from search.head import HeadSettings
from search.projection import normalised


def _rows(spread: float, *, products: int = 30, photos: int = 4) -> list[tuple[int, int, bytes]]:
    rng = np.random.default_rng(0)
    centres = normalised(rng.normal(size=(products, 64)))
    rows = []
    for product in range(products):
        for _ in range(photos):
            vector = normalised(centres[product] + rng.normal(size=64) * spread / 8)
            rows.append((product, product % 3, vector_to_bytes(vector)))
    return rows


def _calibration(spread: float):
    rows = _rows(spread)
    no_views = np.zeros((0, 64), dtype=np.float32)
    projection, trained = _fitted(
        rows,
        shrinkage=0.2,
        dimensions=None,
        extra=no_views,
        extra_positions=np.zeros(0, dtype=np.int64),
        head=HeadSettings(),
    )
    assert projection is not None and trained
    return _calibrated(rows, projection, shrinkage=0.2, dimensions=None, head=HeadSettings())


def test_a_fit_calibrates_both_thresholds_on_its_own_photos():
    calibration = _calibration(spread=0.8)
    assert calibration.good_match_score is not None and calibration.similar_min_score is not None
    assert -1 < calibration.similar_min_score < calibration.good_match_score < 1
    assert calibration.seconds > 0


def test_a_catalog_whose_photos_agree_more_gets_a_higher_good_match():
    tight, loose = _calibration(spread=0.5), _calibration(spread=1.5)
    assert tight.good_match_score is not None and loose.good_match_score is not None
    assert tight.good_match_score > loose.good_match_score
