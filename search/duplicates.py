"""Near-duplicate photos: an image whose vector is almost the same as another product's image.

Staff uploading the same photo (re-encoded, resized or slightly cropped) for a second product usually
means a duplicate listing. The served version's index finds the candidates; they are scored by the raw
backbone cosine (the stored embeddings) whatever fit is served: a projection spreads a photo's edited copies
as much as it spreads different products, so no projected threshold caught crops as the raw one does. The
threshold LOOKALIKE_NEAR_DUPLICATE_MIN_SCORE was measured on the demo data (benchmarks/near_duplicates.py,
docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from catalog.models import Product, ProductImage
from search.graph import graph_store
from search.graph.base import ImageHit
from search.projection import normalised
from search.serving import serving_model
from search.stored_vectors import vector_from_bytes
from search.versions import vectors_project, version_backbone

# Nearest images asked from the index: a product's own photos come first and must not hide the others.
CANDIDATES = 16


@dataclass(frozen=True)
class NearDuplicate:
    image_id: int  # the other product's image
    product: Product
    score: float  # raw backbone cosine similarity in [-1, 1]


def image_near_duplicates(image_id: int, *, threshold: float | None = None) -> list[NearDuplicate]:
    """Other products' images at least `threshold` similar to this image, best first.

    Empty while the image has no embedding yet; raises GraphUnavailable when Neo4j is down.
    """
    return images_near_duplicates([image_id], threshold=threshold).get(image_id, [])


def _raw_stored(image_ids: Iterable[int], *, backbone: str) -> dict[int, tuple[int, np.ndarray]]:
    """{image id: (its product id, its raw unit vector)} for those embedded by `backbone`."""
    rows = ProductImage.objects.filter(
        pk__in=image_ids, embedding__isnull=False, embedding_model=backbone
    ).values_list("pk", "product_id", "embedding")
    return {pk: (product_id, normalised(vector_from_bytes(embedding))) for pk, product_id, embedding in rows}


def images_near_duplicates(
    image_ids: Sequence[int], *, threshold: float | None = None
) -> dict[int, list[NearDuplicate]]:
    """`image_near_duplicates` for several images (a product's inline) in one graph round trip."""
    version = serving_model()
    threshold = settings.LOOKALIKE_NEAR_DUPLICATE_MIN_SCORE if threshold is None else threshold
    backbone = version_backbone(version)
    # Not embedded yet, or by a backbone searches no longer (or not yet) read: no duplicates to show.
    own = _raw_stored(image_ids, backbone=backbone)
    if not own:
        return {}
    projected = vectors_project(np.stack([vector for _, vector in own.values()]), version=version)
    per_image = graph_store().nearest_images_many(
        [v.tolist() for v in projected], k=CANDIDATES, model=version
    )
    # A candidate deleted or re-embedded since its graph node was written has no raw vector here: skipped.
    others = _raw_stored({hit.image_id for hits in per_image for hit in hits}, backbone=backbone)
    close: dict[int, list[tuple[float, ImageHit]]] = {}
    for (image_id, (product_id, vector)), hits in zip(own.items(), per_image, strict=True):
        scored = [
            (float(vector @ others[hit.image_id][1]), hit)
            for hit in hits
            if hit.product_id != product_id and hit.image_id in others
        ]
        close[image_id] = sorted((row for row in scored if row[0] >= threshold), key=lambda row: -row[0])
    products = Product.objects.in_bulk({hit.product_id for rows in close.values() for _, hit in rows})
    return {
        image_id: [
            NearDuplicate(image_id=hit.image_id, product=products[hit.product_id], score=score)
            for score, hit in rows
            if hit.product_id in products  # a product deleted since its graph node was written
        ]
        for image_id, rows in close.items()
    }
