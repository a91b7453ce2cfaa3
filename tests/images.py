"""Awkward and hostile image files, made with Pillow from a real demo photo (tests only)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

DEMO_PHOTO = "train/Fruit/Kiwi/Kiwi_010.jpg"
EXIF_ORIENTATION = 0x0112


def demo_photo(grocery_dir: Path, size: tuple[int, int] = (320, 240)) -> Image.Image:
    return Image.open(grocery_dir / DEMO_PHOTO).convert("RGB").resize(size)


def encode(image: Image.Image, fmt: str, **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_raw(width: int, height: int, *, bit_depth: int, color_type: int, rows: bytes) -> bytes:
    """A PNG written by hand: Pillow cannot write 48-bit RGB, and a bomb needs a header without pixels."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def rgb48_png(image: Image.Image) -> bytes:
    pixels = np.asarray(image, dtype=np.uint16) * 257  # 8 -> 16 bits, full range
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in pixels)
    return png_raw(image.width, image.height, bit_depth=16, color_type=2, rows=rows)


def grey16_png(image: Image.Image) -> bytes:
    return encode(Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257), "PNG")


def bomb_png(side_px: int = 30_000) -> bytes:
    """900 megapixels declared in a file of a few hundred bytes (one compressed row of zeros)."""
    return png_raw(side_px, side_px, bit_depth=1, color_type=0, rows=b"\x00" * (side_px // 8 + 1))


def animated(image: Image.Image, fmt: str) -> bytes:
    frames = [image, image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def exif_rotated_png(image: Image.Image) -> bytes:
    """Stored sideways with orientation 6: shown rotated 90 degrees clockwise, i.e. as `physically_rotated`."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    return encode(image, "PNG", exif=exif)


def physically_rotated(image: Image.Image) -> Image.Image:
    return image.transpose(Image.Transpose.ROTATE_270)


def with_alpha(image: Image.Image) -> bytes:
    rgba = image.convert("RGBA")
    rgba.putalpha(255)
    return encode(rgba, "PNG")


def corrupt_jpeg_header(data: bytes) -> bytes:
    """The start-of-frame segment zeroed: the decoder cannot know the image's size or components."""
    sof = data.index(b"\xff\xc0")
    return data[:sof] + b"\x00" * 12 + data[sof + 12 :]


def odd_but_valid(image: Image.Image) -> dict[str, bytes]:
    """Files that must decode to (nearly) the photo itself."""
    return {
        "cmyk_jpeg": encode(image.convert("CMYK"), "JPEG", quality=95),
        "rgb48_png": rgb48_png(image),
        "alpha_png": with_alpha(image),
        "palette_png": encode(image.quantize(256), "PNG"),
        "palette_gif": encode(image.quantize(256), "GIF"),
        "webp": encode(image, "WEBP", quality=95),
        "mpo_two_pictures": mpo(image),  # as phones write: a JPEG with a second picture
    }


def mpo(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(
        buffer,
        "MPO",
        quality=95,
        save_all=True,
        append_images=[image.resize((image.width // 2, image.height // 2))],
    )
    return buffer.getvalue()


def invalid(image: Image.Image) -> dict[str, bytes]:
    """Files that must be refused with InvalidImage."""
    jpeg, png = encode(image, "JPEG", quality=90), encode(image, "PNG")
    return {
        "not_an_image": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n",
        "empty": b"",
        "truncated_jpeg": jpeg[: len(jpeg) // 2],
        "truncated_png": png[: len(png) // 2],
        "corrupt_jpeg": corrupt_jpeg_header(jpeg),
        "corrupt_png": png[:40] + bytes(b ^ 0xFF for b in png[40:80]) + png[80:],
        "bomb_png": bomb_png(),  # past Pillow's own limit
        "bomb_png_64mp": bomb_png(8_000),  # under Pillow's limit, over LOOKALIKE_MAX_IMAGE_PIXELS
        "animated_gif": animated(image, "GIF"),
        "animated_webp": animated(image, "WEBP"),
    }
