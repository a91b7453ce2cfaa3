"""Decoding photos: orientation, modes, limits (core/images.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.images import RESIZE_PX, InvalidImage, image_decode
from tests.conftest import jpeg_bytes

MAX_PIXELS = 40_000_000


def _png(image: Image.Image) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def test_decode_applies_exif_orientation():
    image = Image.new("RGB", (60, 20), (10, 200, 10))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    buffer.seek(0)
    decoded = image_decode(buffer, max_pixels=MAX_PIXELS)
    assert decoded.size == (20, 60)
    assert decoded.mode == "RGB"


@pytest.mark.parametrize(
    "mode, value", [("RGBA", (255, 0, 0, 0)), ("LA", (0, 0)), ("CMYK", (0, 255, 255, 0))]
)
def test_decode_converts_other_modes_to_rgb(mode, value):
    decoded = image_decode(
        _png(Image.new(mode, (8, 8), value)) if mode != "CMYK" else _cmyk_jpeg(), max_pixels=MAX_PIXELS
    )
    assert decoded.mode == "RGB"
    if mode in ("RGBA", "LA"):  # fully transparent pixels become the white background, not black
        assert decoded.getpixel((0, 0)) == (255, 255, 255)


def _cmyk_jpeg() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(buffer, "JPEG")
    buffer.seek(0)
    return buffer


def test_decode_rescales_16_bit_greyscale():
    array = np.full((8, 8), 30000, dtype=np.uint16)
    decoded = image_decode(_png(Image.fromarray(array)), max_pixels=MAX_PIXELS)
    assert decoded.mode == "RGB"
    assert decoded.getpixel((0, 0))[0] == 255  # the brightest value maps to white rather than clipping


@pytest.mark.parametrize("data", [b"", b"not an image at all", jpeg_bytes()[:200]])
def test_decode_rejects_non_images_and_truncated_files(data):
    with pytest.raises(InvalidImage):
        image_decode(io.BytesIO(data), max_pixels=MAX_PIXELS)


def test_decode_rejects_too_many_pixels():
    with pytest.raises(InvalidImage, match="pixels"):
        image_decode(io.BytesIO(jpeg_bytes(size=(400, 300))), max_pixels=100_000)


def test_decode_uses_jpeg_draft_for_large_images():
    decoded = image_decode(io.BytesIO(jpeg_bytes(size=(2048, 1536))), max_pixels=MAX_PIXELS)
    assert min(decoded.size) >= RESIZE_PX
    assert decoded.size[0] < 2048  # decoded at a reduced scale
