"""Near-duplicate photos: an image whose vector is almost the same as another product's image.

Staff uploading the same photo (re-encoded, resized or slightly cropped) for a second product usually
means a duplicate listing. The threshold LOOKALIKE_NEAR_DUPLICATE_MIN_SCORE was measured on the demo data
(benchmarks/near_duplicates.py, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from catalog.models import Product, ProductImage
from search.embeddings import vector_from_bytes
from search.graph import graph_store
from search.serving import serving_model
from search.versions import vectors_project, version_backbone, version_near_duplicate_min_score

# Nearest images asked from the index: a product's own photos come first and must not hide the others.
CANDIDATES = 16


@dataclass(frozen=True)
class NearDuplicate:
    image_id: int  # the other product's image
    product: Product
    score: float  # cosine similarity in [-1, 1]


def image_near_duplicates(image_id: int, *, threshold: float | None = None) -> list[NearDuplicate]:
    """Other products' images at least `threshold` similar to this image, best first.

    Empty while the image has no embedding yet; raises GraphUnavailable when Neo4j is down.
    """
    return images_near_duplicates([image_id], threshold=threshold).get(image_id, [])


def images_near_duplicates(
    image_ids: Sequence[int], *, threshold: float | None = None
) -> dict[int, list[NearDuplicate]]:
    """`image_near_duplicates` for several images (a product's inline) in one graph round trip."""
    version = serving_model()
    threshold = version_near_duplicate_min_score(version) if threshold is None else threshold
    # Not embedded yet, or by a backbone searches no longer (or not yet) read: no duplicates to show.
    images = list(
        ProductImage.objects.filter(
            pk__in=image_ids, embedding__isnull=False, embedding_model=version_backbone(version)
        ).only("product_id", "embedding")
    )
    if not images:
        return {}
    raw = np.stack([vector_from_bytes(image.embedding) for image in images])
    vectors = [vector.tolist() for vector in vectors_project(raw, version=version)]
    per_image = graph_store().nearest_images_many(vectors, k=CANDIDATES, model=version)
    close = {
        image.pk: [hit for hit in hits if hit.product_id != image.product_id and hit.score >= threshold]
        for image, hits in zip(images, per_image, strict=True)
    }
    products = Product.objects.in_bulk({hit.product_id for hits in close.values() for hit in hits})
    return {
        image_id: [
            NearDuplicate(image_id=hit.image_id, product=products[hit.product_id], score=hit.score)
            for hit in hits
            if hit.product_id in products  # a product deleted since its graph node was written
        ]
        for image_id, hits in close.items()
    }
