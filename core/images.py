"""Decoding uploaded and stored photos, and the upload limits: used by the catalog (admin and API uploads,
thumbnails) and by search (embedding, search by photo), so neither app imports the other for it."""

from __future__ import annotations

import warnings
from typing import BinaryIO, cast

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ServiceError

# The embedder resizes to this; JPEGs are decoded at a reduced scale that still covers it.
RESIZE_PX = 256


class InvalidImage(ServiceError, ValueError):
    """The upload is not an image we can decode, or it is too large."""

    code = "invalid_image"


class UploadTooLarge(InvalidImage):
    http_status = 413
    code = "upload_too_large"


def image_decode(
    source: BinaryIO | File | str,
    *,
    max_pixels: int,
    crop: tuple[int, int, int, int] | None = None,
    min_side_px: int = RESIZE_PX,
) -> Image.Image:
    """Open an image as RGB with EXIF orientation applied, or raise InvalidImage.

    `crop` is (x, y, width, height) in pixels of the image as displayed (after EXIF orientation).
    Without a crop, JPEGs may be decoded at a reduced scale that keeps both sides >= `min_side_px`.
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns between max_pixels and 2x; treat both as bombs.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # A Django File (an upload, a stored image) reads like the file it wraps.
            image: Image.Image = Image.open(cast(BinaryIO | str, source))
            # Which frame of an animation would be "the product"? Ask for a still. MPO (a JPEG with a second,
            # e.g. depth or stereo, picture that many phones write) counts as animated but is a photo.
            if image.format != "MPO" and getattr(image, "is_animated", False):
                raise InvalidImage("Animated images are not supported; upload a still photo.")
            if image.width * image.height > max_pixels:
                raise InvalidImage(
                    f"Image is {image.width}x{image.height} pixels; the limit is {max_pixels:,} pixels."
                )
            if crop is None:
                # JPEG: let libjpeg decode at a reduced scale that still covers the resize target.
                image.draft("RGB", (min_side_px, min_side_px))
            image = ImageOps.exif_transpose(image)
            image.load()
            if crop is not None:
                image = _crop(image, crop)
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage(f"Image has too many pixels: {exc}") from exc
    except UnidentifiedImageError as exc:  # its message names a BytesIO object, not the user's file
        raise InvalidImage("Not a readable image: not a JPEG, PNG, WebP, GIF or other known format.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(f"Not a readable image ({exc.__class__.__name__}: {exc}).") from exc
    return _to_rgb(image)


def _crop(image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    x, y, width, height = box
    if width < 1 or height < 1 or x < 0 or y < 0 or x + width > image.width or y + height > image.height:
        raise InvalidImage(f"Crop box {box} does not lie within the {image.width}x{image.height} image.")
    return image.crop((x, y, x + width, y + height))


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: rescale to 8 bits rather than clipping everything to white.
        array = np.asarray(image, dtype=np.float64)
        peak = array.max() or 1.0
        image = Image.fromarray((array * (255.0 / peak)).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def upload_check(upload: UploadedFile) -> None:
    """Not empty and within LOOKALIKE_MAX_UPLOAD_BYTES, or InvalidImage / UploadTooLarge."""
    limit = settings.LOOKALIKE_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size == 0:
        raise InvalidImage("The file is empty.")
    if upload.size > limit:
        raise UploadTooLarge(f"The file is too large: {upload.size:,} bytes; the limit is {limit:,} bytes.")


def upload_decode(upload: UploadedFile, *, crop: tuple[int, int, int, int] | None = None) -> Image.Image:
    """An upload within the byte and pixel limits, decoded; or InvalidImage / UploadTooLarge."""
    upload_check(upload)
    return image_decode(upload, max_pixels=settings.LOOKALIKE_MAX_IMAGE_PIXELS, crop=crop)


def upload_image_check(upload: UploadedFile) -> None:
    """Within the byte and pixel limits and decodable as an image, or InvalidImage; rewinds the file."""
    upload_decode(upload)
    upload.seek(0)
