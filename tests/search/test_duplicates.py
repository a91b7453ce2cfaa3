"""Near-duplicates (search/duplicates.py): the served version's index finds the candidates, the raw backbone
cosine scores them, whatever fit is served."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.models import ProductImage
from search.duplicates import image_near_duplicates, images_near_duplicates
from search.indexing import images_project
from search.projection import normalised
from search.stored_vectors import vector_to_bytes
from tests.conftest import jpeg_bytes
from tests.factories import image_add_from_bytes, product_make, served_fit_make

pytestmark = pytest.mark.django_db

DIMENSIONS = 1280


def _raw(*weights: tuple[int, float], noise_seed: int | None = None) -> np.ndarray:
    vector = np.zeros(DIMENSIONS, dtype=np.float32)
    for dimension, weight in weights:
        vector[dimension] = weight
    if noise_seed is not None:
        vector += np.random.default_rng(noise_seed).normal(0, 0.002, DIMENSIONS).astype(np.float32)
    return normalised(vector)


def _image(name: str, vector: np.ndarray) -> ProductImage:
    image = image_add_from_bytes(product_make(name), jpeg_bytes())
    ProductImage.objects.filter(pk=image.pk).update(
        embedding=vector_to_bytes(vector), embedding_model="efficientnet_lite0"
    )
    return ProductImage.objects.select_related("product__category").get(pk=image.pk)


@pytest.fixture
def served_fit_blind_to_two_dimensions(memory_graph):
    """Photo `a`, `other` (a different photo: raw cosine 0.5) and `copy` (a's copy: raw cosine ~1), served
    under a fit that ignores the dimensions `a` and `other` differ in (projected cosine 1)."""
    matrix = np.eye(DIMENSIONS, dtype=np.float32)
    matrix[1, 1] = matrix[2, 2] = 0.0
    fit = served_fit_make(matrix, products=3, images=3)
    images = {
        "a": _image("A", _raw((0, 1.0), (1, 1.0))),
        "other": _image("Other", _raw((0, 1.0), (2, 1.0))),
        "copy": _image("Copy", _raw((0, 1.0), (1, 1.0), noise_seed=0)),
    }
    images_project(list(images.values()), version=fit.version)
    memory_graph.serving_switch(fit.version)
    return images


def test_candidates_are_scored_by_the_raw_cosine_not_the_served_fits(served_fit_blind_to_two_dimensions):
    a, other, copy = (served_fit_blind_to_two_dimensions[k] for k in ("a", "other", "copy"))
    found = image_near_duplicates(a.pk)
    assert [d.image_id for d in found] == [copy.pk]  # `other` is projected onto `a` but is not a copy
    assert found[0].product == copy.product and found[0].score == pytest.approx(0.99, abs=0.01)

    everything = image_near_duplicates(a.pk, threshold=-1.0)
    assert [d.image_id for d in everything] == [copy.pk, other.pk]  # best raw cosine first
    assert everything[1].score == pytest.approx(0.5, abs=1e-5)


def test_a_candidate_deleted_since_its_node_was_written_is_skipped(served_fit_blind_to_two_dimensions):
    a, other, copy = (served_fit_blind_to_two_dimensions[k] for k in ("a", "other", "copy"))
    ProductImage.objects.filter(pk=copy.pk).delete()  # its graph node stays until the on-commit sync
    assert [d.image_id for d in images_near_duplicates([a.pk], threshold=-1.0)[a.pk]] == [other.pk]
    assert image_near_duplicates(a.pk) == []
