from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from catalog.thumbnails import THUMBNAIL_PX, thumbnail_name, thumbnail_url
from tests.conftest import jpeg_bytes
from tests.factories import image_add_from_bytes, product_make

pytestmark = pytest.mark.django_db


def test_thumbnails_are_made_once_and_small(memory_graph):
    image = image_add_from_bytes(product_make(), jpeg_bytes(size=(1600, 1200)))
    url = thumbnail_url(image)
    name = thumbnail_name(image, THUMBNAIL_PX)
    assert url.endswith(name)
    with default_storage.open(name) as handle:
        assert max(Image.open(handle).size) == THUMBNAIL_PX
    modified = default_storage.get_modified_time(name)
    assert thumbnail_url(image) == url and default_storage.get_modified_time(name) == modified


def test_an_unreadable_image_falls_back_to_the_original(memory_graph):
    image = image_add_from_bytes(product_make(), b"not an image")
    assert thumbnail_url(image) == image.image.url
