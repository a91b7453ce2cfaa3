"""Spherical k-means in NumPy: group unit vectors by direction (cosine), deterministic for a seed."""

from __future__ import annotations

import math

import numpy as np

MAX_CLUSTERS = 12
ITERATIONS = 25


def cluster_count(n: int) -> int:
    # The usual rule of thumb sqrt(n / 2), capped so the page stays readable.
    return max(1, min(MAX_CLUSTERS, round(math.sqrt(n / 2)))) if n else 0


def _plus_plus_centres(vectors: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [vectors[rng.integers(len(vectors))]]
    for _ in range(1, k):
        distance = 1.0 - np.max(vectors @ np.array(centres).T, axis=1)
        distance = np.clip(distance, 0.0, None)
        total = float(distance.sum())
        if total <= 0:
            break
        centres.append(vectors[rng.choice(len(vectors), p=distance / total)])
    return np.array(centres)


def kmeans_cosine(vectors: np.ndarray, k: int, *, seed: int = 0) -> np.ndarray:
    """A cluster label per row of unit `vectors` (labels 0..k-1, some possibly unused)."""
    if len(vectors) == 0:
        return np.zeros(0, dtype=int)
    rng = np.random.default_rng(seed)
    centres = _plus_plus_centres(vectors, min(k, len(vectors)), rng)
    labels = np.zeros(len(vectors), dtype=int)
    for _ in range(ITERATIONS):
        new_labels = np.argmax(vectors @ centres.T, axis=1)
        if np.array_equal(new_labels, labels) and _ > 0:
            break
        labels = new_labels
        for c in range(len(centres)):
            members = vectors[labels == c]
            if len(members):
                mean = members.sum(axis=0)
                centres[c] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return labels
