"""The exact all-pairs SIMILAR_TO lists a projection fit writes: the same lists as scoring every pair of
products by their best image pair one by one, whatever the block size."""

from __future__ import annotations

import numpy as np
import pytest

from search import similar_edges
from search.projection import normalised
from search.similar_edges import similar_lists_exact


def _reference(image_products, vectors, *, k, min_score):
    lists = {}
    for product in sorted(set(image_products.tolist())):
        mine = vectors[image_products == product]
        best = {}
        for other in sorted(set(image_products.tolist()) - {product}):
            best[other] = float((mine @ vectors[image_products == other].T).max())
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        lists[product] = [(p, round(s, 6)) for p, s in ranked if s >= min_score][:k]
    return lists


@pytest.mark.parametrize("block_rows", [1, 5, 1024])
def test_exact_lists_equal_best_image_pairs_for_any_block_size(monkeypatch, block_rows):
    rng = np.random.default_rng(3)
    image_products = rng.permutation(np.repeat(np.arange(100, 130), rng.integers(1, 6, size=30)))
    vectors = normalised(rng.normal(size=(len(image_products), 16)))
    monkeypatch.setattr(similar_edges, "EXACT_BLOCK_ROWS", block_rows)
    lists = similar_lists_exact(image_products, vectors, k=8, min_score=0.55)
    expected = _reference(image_products, vectors, k=8, min_score=0.55)
    assert sorted(lists) == sorted(expected)
    for product, neighbours in lists.items():
        assert [n.product_id for n in neighbours] == [p for p, _ in expected[product]]
        assert [n.score for n in neighbours] == pytest.approx([s for _, s in expected[product]], abs=1e-5)
    assert any(len(ns) < 8 for ns in lists.values())  # the min score cut some lists short
    assert all(n.product_id != p for p, ns in lists.items() for n in ns)
