"""A linear projection of backbone embeddings fitted on the shop's own catalog (pure NumPy).

The backbone was trained to tell ImageNet classes apart, not this shop's products. The catalog knows which
photos show the same product: the spread of one product's photos (light, angle, background) is what a
search should ignore. `projection_fit` whitens that within-group scatter (LDA-style, shrunk towards the
identity so a small catalog cannot overfit it), then keeps the directions in which the groups' means differ
most (optional). With too few products that have several photos there is nothing to learn from, and the
fit is the identity (category groups are possible but measured worse, `CATEGORY_FALLBACK`). Thresholds and defaults were measured on
held-out photos (benchmarks/retrieval_quality.py, docs/benchmarks.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Grouping = Literal["product", "category", "identity"]

# Measured on held-out grocery photos (docs/benchmarks.md, "Catalog projection"): whitening alone (no
# reduction to the between-group directions) is what carries over to products the fit never saw; keeping
# the 80 LDA directions lost 7 points of first-result rate on them.
DEFAULT_SHRINKAGE = 0.2
DEFAULT_DIMENSIONS: int | None = None
# Below this many groups with at least two photos, the within-group scatter says too little.
MIN_GROUPS = 8
# Products are the groups once this many photos sit in products with several photos.
MIN_PRODUCT_GROUPED_PHOTOS = 64
# Category groups (for catalogs with one photo per product) cost 5 points of first-result rate and 5 of
# coarse-class rate on the grocery catalogue photos: off, such catalogs get the identity.
CATEGORY_FALLBACK = False


@dataclass(frozen=True)
class Projection:
    mean: np.ndarray  # (d,) subtracted first
    matrix: np.ndarray  # (d, k)
    grouping: Grouping
    groups: int  # groups with two or more photos the scatter was measured on

    @property
    def dimensions(self) -> int:
        return int(self.matrix.shape[1])


def normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def project(vectors: np.ndarray, projection: Projection | None) -> np.ndarray:
    """Unit vectors in the projection's space (`None`: the identity, the vectors as they are)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if projection is None:
        return normalised(vectors)
    return normalised((vectors - projection.mean) @ projection.matrix)


def grouping_choose(
    products: Sequence[int], categories: Sequence[int]
) -> tuple[Grouping, np.ndarray] | tuple[Literal["identity"], None]:
    """Group labels per vector: products if enough photos share a product, else categories, else none."""
    candidates = (
        (("product", products), ("category", categories)) if CATEGORY_FALLBACK else (("product", products),)
    )
    for grouping, labels in candidates:
        counts = Counter(labels)
        multi = [label for label, count in counts.items() if count >= 2]
        photos = sum(counts[label] for label in multi)
        enough_photos = grouping == "category" or photos >= MIN_PRODUCT_GROUPED_PHOTOS
        if len(multi) >= MIN_GROUPS and enough_photos:
            return grouping, np.asarray(labels)  # type: ignore[return-value]
    return "identity", None


def _whitening(scatter: np.ndarray) -> np.ndarray:
    """W with W @ W.T = scatter⁻¹, so (x W)·(y W) = x scatter⁻¹ y: any such W gives the same cosines.
    Cholesky (L⁻ᵀ) rather than the symmetric inverse square root: at 1280 dimensions eigh took 20-33 s on
    the loaded 2-core machine against 3-4 s (docs/benchmarks.md); eigh remains for a singular scatter."""
    try:
        return np.linalg.inv(np.linalg.cholesky(scatter)).T
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(scatter)
        return eigenvectors / np.sqrt(np.maximum(eigenvalues, 1e-12))


def projection_fit(
    vectors: np.ndarray,
    *,
    products: Sequence[int],
    categories: Sequence[int],
    shrinkage: float = DEFAULT_SHRINKAGE,
    dimensions: int | None = DEFAULT_DIMENSIONS,
) -> Projection | None:
    """Fit on unit vectors labelled with their product and category; None when the identity is best.

    `shrinkage` in (0, 1]: the within-group scatter is blended with its average variance times the identity
    (1 leaves only a centring). `dimensions`: how many between-group directions to keep after whitening
    (None: all, i.e. whitening only); never more than there are groups minus one.
    """
    grouping, labels = grouping_choose(products, categories)
    if labels is None:
        return None
    vectors = np.asarray(vectors, dtype=np.float64)
    mean = vectors.mean(axis=0)
    keys, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    group_means = np.zeros((len(keys), vectors.shape[1]))
    np.add.at(group_means, inverse, vectors)
    group_means /= counts[:, None]
    in_multi = counts[inverse] >= 2
    deviations = vectors[in_multi] - group_means[inverse[in_multi]]
    scatter = deviations.T @ deviations / len(deviations)
    average_variance = np.trace(scatter) / scatter.shape[0]
    scatter = (1 - shrinkage) * scatter + shrinkage * average_variance * np.eye(scatter.shape[0])
    whitening = _whitening(scatter)
    matrix = whitening
    if dimensions is not None:
        between = (group_means - mean) @ whitening
        _, _, directions = np.linalg.svd(between * np.sqrt(counts)[:, None], full_matrices=False)
        keep = min(dimensions, len(keys) - 1, directions.shape[0])
        matrix = whitening @ directions[:keep].T
    return Projection(
        mean=mean.astype(np.float32),
        matrix=matrix.astype(np.float32),
        grouping=grouping,
        groups=int((counts >= 2).sum()),
    )
