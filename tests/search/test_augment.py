"""Augmented views for a fit (search/augment.py): repeatable, and embedded by the real backbone from the
stored files."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import override_settings

from search import augment
from search.augment import view_augmented, view_seed, views_embed, views_prune
from search.embeddings import embedder_get, image_decode
from search.models import ViewEmbedding
from tests.factories import image_add_from_path, product_make
from tests.images import DEMO_PHOTO, demo_photo


def test_a_view_is_the_same_for_the_same_seed_and_differs_across_seeds(grocery_dir):
    photo = demo_photo(grocery_dir)
    first = np.asarray(view_augmented(photo, seed=7))
    assert np.array_equal(first, np.asarray(view_augmented(photo, seed=7)))
    assert not np.array_equal(first, np.asarray(view_augmented(photo, seed=8)))
    assert view_seed(content_hash="ab" * 32, view=1) != view_seed(content_hash="cd" * 32, view=0)


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


@pytest.mark.django_db
def test_views_are_cached_by_photo_content_and_pruned_with_the_photo(grocery_dir, tmp_path, monkeypatch):
    with override_settings(MEDIA_ROOT=tmp_path, LOOKALIKE_BACKBONE="efficientnet_lite0"):
        kiwi = image_add_from_path(product_make("Kiwi"), grocery_dir / DEMO_PHOTO)
        first, _ = views_embed([kiwi], views=2, progress=lambda n: None)
        assert ViewEmbedding.objects.count() == 2
        # The same photo stored again (another product): its views come from the cache, no CNN pass.
        again = image_add_from_path(product_make("Kiwi again"), grocery_dir / DEMO_PHOTO)

        def no_decode(*args, **kwargs):
            raise AssertionError("a cached view was embedded again")

        monkeypatch.setattr(augment, "image_decode", no_decode)
        done: list[int] = []
        cached, positions = views_embed([kiwi, again], views=2, progress=done.append)
        assert sum(done) == 2 and positions.tolist() == [0, 0, 1, 1]
        assert np.array_equal(cached[:2], first) and np.array_equal(cached[2:], first)
        assert ViewEmbedding.objects.count() == 2
        # A third view is embedded (the photo is decoded once more) and cached beside the two.
        monkeypatch.undo()
        three, _ = views_embed([kiwi], views=3, progress=lambda n: None)
        assert np.array_equal(three[:2], first) and ViewEmbedding.objects.count() == 3
        assert views_prune(backbone="efficientnet_lite0") == 0  # both images still hold the photo
        kiwi.delete()
        again.delete()
        assert views_prune(backbone="efficientnet_lite0") == 3
