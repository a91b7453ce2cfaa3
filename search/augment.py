"""Augmented views of catalog photos (random resized crop, flip, colour jitter) embedded by the backbone, for
fitting a projection that also ignores framing and lighting (search/fitting.py, `--views`).

Unlike the stored raw embeddings these need the CNN: one pass per photo and view, at the first fit that
asks for them; they are cached by the photo's content hash (ViewEmbedding), so a refit pays only for photos
added or replaced since. Computed at fit time (with the fit's progress), not by the sync workers: most fits
use no views, and a worker pass would double every upload's CNN time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from django.conf import settings
from PIL import Image
from torchvision import transforms

from catalog.models import ProductImage
from catalog.services import file_sha256
from core.images import RESIZE_PX, InvalidImage, image_decode
from search.embeddings import embedder_active
from search.models import ViewEmbedding
from search.stored_vectors import vector_from_bytes, vector_to_bytes

# Mild enough that the product stays in view: at least 35% of the photo's area, colours shifted a little (a
# shop's lighting), never recoloured (hue ±0.03: a red apple must not turn green). Measured with these
# settings: benchmarks/augmented_views.py, docs/benchmarks.md "Catalog projection".
AUGMENT = transforms.Compose(
    [
        transforms.RandomResizedCrop(RESIZE_PX, scale=(0.35, 1.0), ratio=(3 / 4, 4 / 3)),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.25, hue=0.03),
    ]
)


def view_augmented(image: Image.Image, *, seed: int) -> Image.Image:
    """The same seed gives the same view (torchvision draws from torch's global generator)."""
    torch.manual_seed(seed)
    return AUGMENT(image)


def view_seed(*, content_hash: str, view: int) -> int:
    """Seeded by the photo's content, not its row: the same photo always gets the same views, so they can be
    cached (ViewEmbedding) and reused wherever the photo is stored."""
    return int(content_hash[:12], 16) * 101 + view  # 48 bits of the hash: well inside torch's int64 seed


CACHE_LOOKUP_CHUNK = 500  # hashes per query (SQLite's bound-parameter limit)


def _photo_hash(image: ProductImage) -> str:
    """The stored hash (indexing keeps it current), else the file's."""
    if image.content_hash:
        return image.content_hash
    try:
        with image.image.open("rb") as handle:
            return file_sha256(handle)
    except OSError:
        return ""


def _cached(backbone: str, hashes: set[str], views: int) -> dict[tuple[str, int], np.ndarray]:
    found: dict[tuple[str, int], np.ndarray] = {}
    ordered = sorted(hashes)
    for start in range(0, len(ordered), CACHE_LOOKUP_CHUNK):
        rows = ViewEmbedding.objects.filter(
            backbone=backbone, content_hash__in=ordered[start : start + CACHE_LOOKUP_CHUNK], view__lt=views
        ).values_list("content_hash", "view", "vector")
        found.update({(h, v): vector_from_bytes(vector) for h, v, vector in rows})
    return found


def views_embed(
    images: Sequence[ProductImage], *, views: int, progress: Callable[[int], None]
) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, positions): `views` augmented views of each image, embedded, and the position in `images`
    each vector belongs to. Views cached for the photo's content are reused; the others are embedded (a CNN
    pass each) and cached. An image whose file cannot be read is left out (its raw vector still counts)."""
    embedder = embedder_active()
    hashes = [_photo_hash(image) for image in images]
    cached = _cached(embedder.name, {h for h in hashes if h}, views)
    found: dict[tuple[int, int], np.ndarray] = {}
    todo: list[tuple[int, int]] = []  # (position, view) in the order their augmented images are yielded
    for position, content_hash in enumerate(hashes):
        for view in range(views):
            if (content_hash, view) in cached:
                found[(position, view)] = cached[(content_hash, view)]
        if all((position, view) in found for view in range(views)):
            progress(1)  # nothing to embed for this photo

    def augmented() -> Iterator[Image.Image]:
        for position, image in enumerate(images):
            missing = [view for view in range(views) if (position, view) not in found]
            if not missing:
                continue
            try:
                with image.image.open("rb") as handle:
                    decoded = image_decode(handle, max_pixels=settings.LOOKALIKE_MAX_IMAGE_PIXELS)
            except (InvalidImage, OSError):
                progress(1)
                continue
            for view in missing:
                todo.append((position, view))
                # No hash: the file could not be read to hash it, so this is not reached (and never cached).
                content_hash = hashes[position] or "0"
                yield view_augmented(decoded, seed=view_seed(content_hash=content_hash, view=view))
            progress(1)

    embedded = list(embedder.embed_many(augmented()))
    new_rows = []
    for (position, view), vector in zip(todo, embedded, strict=True):
        found[(position, view)] = vector
        if hashes[position]:
            new_rows.append(
                ViewEmbedding(
                    backbone=embedder.name,
                    content_hash=hashes[position],
                    view=view,
                    vector=vector_to_bytes(vector),
                )
            )
    ViewEmbedding.objects.bulk_create(new_rows, batch_size=500, ignore_conflicts=True)
    keys = sorted(found)
    if not keys:
        return np.zeros((0, embedder.dimensions), dtype=np.float32), np.zeros(0, dtype=np.int64)
    return np.stack([found[key] for key in keys]), np.array([p for p, _ in keys], dtype=np.int64)


def views_prune(*, backbone: str) -> int:
    """Drop the cached views of photos no image in the catalog holds any more."""
    deleted, _ = (
        ViewEmbedding.objects.filter(backbone=backbone)
        .exclude(content_hash__in=ProductImage.objects.values("content_hash"))
        .delete()
    )
    return deleted
