"""Augmented views of catalog photos (random resized crop, flip, colour jitter) embedded by the backbone, for
fitting a projection that also ignores framing and lighting (search/fitting.py, `--views`).

Unlike the stored raw embeddings these need the CNN: one pass per photo and view, at fit time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from django.conf import settings
from PIL import Image
from torchvision import transforms

from catalog.models import ProductImage
from core.images import RESIZE_PX, InvalidImage, image_decode
from search.embeddings import embedder_active

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


def view_seed(*, image_id: int, view: int) -> int:
    return image_id * 101 + view


def views_embed(
    images: Sequence[ProductImage], *, views: int, progress: Callable[[int], None]
) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, positions): `views` augmented views of each image, embedded, and the position in `images`
    each vector belongs to. An image whose file cannot be read is left out (its raw vector still counts)."""
    embedder = embedder_active()
    positions: list[int] = []

    def augmented() -> Iterator[Image.Image]:
        for position, image in enumerate(images):
            try:
                with image.image.open("rb") as handle:
                    decoded = image_decode(handle, max_pixels=settings.LOOKALIKE_MAX_IMAGE_PIXELS)
            except (InvalidImage, OSError):
                progress(1)
                continue
            for view in range(views):
                positions.append(position)
                yield view_augmented(decoded, seed=view_seed(image_id=image.pk, view=view))
            progress(1)

    vectors = list(embedder.embed_many(augmented()))
    stacked = np.stack(vectors) if vectors else np.zeros((0, embedder.dimensions), dtype=np.float32)
    return stacked, np.asarray(positions, dtype=np.int64)
