"""Odd and hostile image files through image_decode and the embedder: converted correctly, or refused clearly."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from search.embeddings import InvalidImage, embedder_get, image_decode
from tests import images

MAX_PIXELS = 40_000_000
# A small limit for the fuzz run, so that random headers declaring big images are refused before any work.
FUZZ_MAX_PIXELS = 1_000_000


@pytest.fixture(scope="module")
def photo(grocery_dir) -> Image.Image:
    return images.demo_photo(grocery_dir)


@pytest.fixture(scope="module")
def embedder():
    return embedder_get("efficientnet_lite0")


def _decode(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    return image_decode(io.BytesIO(data), max_pixels=max_pixels)


@pytest.mark.parametrize("kind", sorted(images.invalid(Image.new("RGB", (320, 240)))))
def test_hostile_files_are_refused_with_invalid_image(photo, kind):
    with pytest.raises(InvalidImage):
        _decode(images.invalid(photo)[kind])


@pytest.mark.parametrize("kind", sorted(images.odd_but_valid(Image.new("RGB", (320, 240)))))
def test_odd_but_valid_files_embed_like_the_photo_itself(photo, embedder, kind):
    decoded = _decode(images.odd_but_valid(photo)[kind])

    assert decoded.mode == "RGB" and decoded.size == photo.size
    cosine = float(np.dot(embedder.embed_one(decoded), embedder.embed_one(photo)))
    assert cosine >= 0.95, f"{kind}: cosine {cosine:.3f}"


def test_16_bit_greyscale_embeds_like_the_8_bit_greyscale_photo(photo, embedder):
    decoded = _decode(images.grey16_png(photo))
    grey = photo.convert("L").convert("RGB")
    assert np.array_equal(np.asarray(decoded), np.asarray(grey))
    assert float(np.dot(embedder.embed_one(decoded), embedder.embed_one(grey))) >= 0.999


def test_exif_rotated_photo_equals_the_physically_rotated_one(photo, embedder):
    decoded = _decode(images.exif_rotated_png(photo))
    rotated = images.physically_rotated(photo)

    assert np.array_equal(np.asarray(decoded), np.asarray(rotated))
    assert np.allclose(embedder.embed_one(decoded), embedder.embed_one(rotated), atol=1e-6)
    assert float(np.dot(embedder.embed_one(decoded), embedder.embed_one(photo))) < 0.99  # rotation mattered


def _mutated(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buffer = bytearray(data)
    for position, value in edits:
        buffer[position % len(buffer)] = value
    return bytes(buffer[:cut] if cut else buffer)


def _decoded_within_limits_or_refused(data: bytes) -> None:
    try:
        decoded = _decode(data, FUZZ_MAX_PIXELS)
    except InvalidImage:
        return
    assert decoded.mode == "RGB" and decoded.width * decoded.height <= FUZZ_MAX_PIXELS


FUZZ = settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_fuzz_random_bytes(data):
    _decoded_within_limits_or_refused(data)


@pytest.fixture(scope="module")
def small_files(grocery_dir) -> dict[str, bytes]:
    small = images.demo_photo(grocery_dir, size=(48, 32))
    return {
        "jpeg": images.encode(small, "JPEG", quality=80),
        "png": images.encode(small, "PNG"),
        "palette_png": images.encode(small.quantize(16), "PNG"),
        "webp": images.encode(small, "WEBP"),
        "gif": images.encode(small.quantize(16), "GIF"),
        "exif_png": images.exif_rotated_png(small),
    }


@FUZZ
@given(
    kind=st.sampled_from(["jpeg", "png", "palette_png", "webp", "gif", "exif_png"]),
    edits=st.lists(st.tuples(st.integers(min_value=0, max_value=10**6), st.integers(0, 255)), max_size=8),
    cut=st.none() | st.integers(min_value=1, max_value=8000),
)
def test_fuzz_mutated_real_files(small_files, kind, edits, cut):
    _decoded_within_limits_or_refused(_mutated(small_files[kind], edits, cut))
