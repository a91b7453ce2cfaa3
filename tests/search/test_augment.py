"""Augmented views for a fit (search/augment.py): repeatable, and embedded by the real backbone from the
stored files."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import override_settings

from search.augment import view_augmented, view_seed, views_embed
from search.embeddings import embedder_get, image_decode
from tests.factories import image_add_from_path, product_make
from tests.images import DEMO_PHOTO, demo_photo


def test_a_view_is_the_same_for_the_same_seed_and_differs_across_seeds(grocery_dir):
    photo = demo_photo(grocery_dir)
    first = np.asarray(view_augmented(photo, seed=7))
    assert np.array_equal(first, np.asarray(view_augmented(photo, seed=7)))
    assert not np.array_equal(first, np.asarray(view_augmented(photo, seed=8)))
    assert view_seed(image_id=1, view=1) != view_seed(image_id=2, view=0)


@pytest.mark.django_db
def test_views_are_embedded_from_the_stored_files_near_their_photo(grocery_dir, tmp_path):
    embedder = embedder_get("efficientnet_lite0")
    with override_settings(MEDIA_ROOT=tmp_path, LOOKALIKE_BACKBONE="efficientnet_lite0"):
        product = product_make("Kiwi")
        kiwi = image_add_from_path(product, grocery_dir / DEMO_PHOTO)
        lemon = image_add_from_path(product, grocery_dir / "train/Fruit/Lemon/Lemon_001.jpg")
        lemon.image.storage.delete(lemon.image.name)  # unreadable: left out, not an error
        done: list[int] = []
        vectors, positions = views_embed([kiwi, lemon], views=2, progress=done.append)
    assert sum(done) == 2
    assert vectors.shape == (2, 1280) and positions.tolist() == [0, 0]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    with kiwi.image.open("rb") as handle:
        raw = embedder.embed_one(image_decode(handle, max_pixels=10**8))
    # a view is the same photo, cropped and recoloured: near it, not equal to it
    assert all(0.6 < float(raw @ v) < 0.9999 for v in vectors)
    assert not np.allclose(vectors[0], vectors[1])
