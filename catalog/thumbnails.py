"""Thumbnails made once per image and size, then served as files: pages never ship full-size photos."""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from catalog.models import ProductImage
from core.images import InvalidImage, image_decode

logger = logging.getLogger("lookalike.thumbnails")

THUMBNAIL_PX = 320


def thumbnail_name(image: ProductImage, size_px: int) -> str:
    # The content hash in the name makes a replaced photo get a new thumbnail (and defeats stale caches).
    return f"thumbs/{image.pk}-{(image.content_hash or 'new')[:12]}-{size_px}.jpg"


def thumbnail_url(image: ProductImage, size_px: int = THUMBNAIL_PX) -> str:
    """URL of a JPEG at most size_px on its longer side; the original's URL if it cannot be made."""
    name = thumbnail_name(image, size_px)
    if not default_storage.exists(name):
        try:
            with image.image.open("rb") as handle:
                picture = image_decode(
                    handle, max_pixels=settings.LOOKALIKE_MAX_IMAGE_PIXELS, min_side_px=size_px
                )
        except (InvalidImage, OSError) as exc:
            logger.warning("No thumbnail for image %s: %s", image.pk, exc)
            return image.image.url
        picture.thumbnail((size_px, size_px))
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=85, optimize=True)
        default_storage.save(name, ContentFile(buffer.getvalue()))
    return default_storage.url(name)
