from __future__ import annotations

import pytest
from PIL import Image

from tests.conftest import jpeg_bytes
from tests.factories import image_add_from_bytes, product_make
from tests.images import encode

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "filename, data, suffix",
    [
        ("../../etc/passwd.jpg", jpeg_bytes(), ".jpg"),
        ("photo.jpg", encode(Image.new("RGB", (8, 8)), "PNG"), ".png"),
        ("shell.php", encode(Image.new("RGB", (8, 8)), "WEBP"), ".webp"),
        ("page.html", b"<script>alert(1)</script>", ".bin"),
    ],
)
def test_stored_names_are_generated_with_the_decoded_formats_extension(memory_graph, filename, data, suffix):
    image = image_add_from_bytes(product_make(), data, filename=filename)

    directory, name = image.image.name.split("/")
    assert directory == "products" and name.endswith(suffix) and len(name) == 32 + len(suffix)
    assert ".." not in image.image.name and "passwd" not in image.image.name
