from __future__ import annotations

import numpy as np

from insights.clusters import cluster_count, kmeans_cosine


def test_kmeans_finds_three_groups_of_directions():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 64))
    sizes = (30, 20, 10)
    vectors = np.vstack([c + rng.standard_normal((n, 64)) * 0.2 for c, n in zip(centres, sizes, strict=True)])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = kmeans_cosine(vectors, 3, seed=1)
    truth = np.repeat([0, 1, 2], sizes)
    for group in range(3):  # every true group lands in a single cluster of its own
        assert len(set(labels[truth == group])) == 1
    assert len(set(labels)) == 3


def test_cluster_count_grows_slowly_and_is_capped():
    assert [cluster_count(n) for n in (0, 1, 8, 50, 100_000)] == [0, 1, 2, 5, 12]
    assert kmeans_cosine(np.zeros((0, 4)), 3).shape == (0,)
