"""Near-duplicate photos: an image whose vector is almost the same as another product's image.

Staff uploading the same photo (re-encoded, resized or slightly cropped) for a second product usually
means a duplicate listing. The threshold LOOKALIKE_NEAR_DUPLICATE_MIN_SCORE was measured on the demo data
(benchmarks/near_duplicates.py, docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    version = serving_model()
    threshold = version_near_duplicate_min_score(version) if threshold is None else threshold
    image = (
        ProductImage.objects.filter(pk=image_id).only("product_id", "embedding", "embedding_model").first()
    )
    if image is None or not image.embedding or image.embedding_model != version_backbone(version):
        return []  # not embedded yet, or by a backbone searches no longer (or not yet) read
    vector = vectors_project(vector_from_bytes(bytes(image.embedding)), version=version).tolist()
    hits = graph_store().nearest_images(vector, k=CANDIDATES, model=version)
    close = [hit for hit in hits if hit.product_id != image.product_id and hit.score >= threshold]
    products = Product.objects.in_bulk([hit.product_id for hit in close])
    return [
        NearDuplicate(image_id=hit.image_id, product=products[hit.product_id], score=hit.score)
        for hit in close
        if hit.product_id in products  # a product deleted since its graph node was written
    ]
