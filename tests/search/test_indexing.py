"""Indexing against the in-memory graph store (unit level); the Neo4j path is in tests/integration."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.models import ProductImage, SyncStatus
from search import indexing
from search.graph import GraphUnavailable
from search.graph.memory import InMemoryGraphStore
from tests.conftest import graph_image_ids, graph_product_ids, jpeg_bytes
from tests.factories import image_add_from_bytes, image_add_from_path, product_make

pytestmark = pytest.mark.django_db


class UnavailableGraphStore(InMemoryGraphStore):
    """A fake store that behaves like Neo4j being down."""

    def upsert_products(self, products):
        raise GraphUnavailable("simulated outage")


def test_sync_embeds_and_projects_an_image(memory_graph, grocery_dir):
    product = product_make("Banana")
    image = image_add_from_path(product, grocery_dir / "train/Fruit/Banana/Banana_001.jpg")

    report = indexing.image_sync(image_id=image.pk)

    image.refresh_from_db()
    assert report.synced == 1
    assert image.sync_status == SyncStatus.SYNCED and image.embedding_model == "efficientnet_lite0"
    stored = memory_graph.images[("efficientnet_lite0", image.pk)]
    assert stored.product_id == product.pk and len(stored.embedding) == 1280
    assert np.linalg.norm(stored.embedding) == pytest.approx(1.0, abs=1e-5)


def test_corrupt_image_is_marked_failed_with_its_error(memory_graph):
    product = product_make()
    image = image_add_from_bytes(product, jpeg_bytes()[:100])

    report = indexing.image_sync(image_id=image.pk)

    image.refresh_from_db()
    assert image.pk in report.failed
    assert image.sync_status == SyncStatus.FAILED and "Not a readable image" in image.sync_error
    assert image.pk not in graph_image_ids(memory_graph)


def test_graph_outage_leaves_image_pending_with_embedding_kept(settings):
    settings.LOOKALIKE_GRAPH_STORE = "tests.search.test_indexing.UnavailableGraphStore"
    indexing.graph_store.cache_clear()
    try:
        image = image_add_from_bytes(product_make(), jpeg_bytes())
        report = indexing.image_sync(image_id=image.pk)
    finally:
        indexing.graph_store.cache_clear()
    image.refresh_from_db()
    assert report.pending == 1 and "simulated outage" in report.graph_error
    assert image.sync_status == SyncStatus.PENDING and image.embedding is not None


def test_resync_reuses_the_stored_embedding(memory_graph, monkeypatch):
    image = image_add_from_bytes(product_make(), jpeg_bytes())
    indexing.image_sync(image_id=image.pk)
    monkeypatch.setattr(indexing, "image_decode", lambda *a, **k: pytest.fail("decoded again"))
    assert indexing.image_sync(image_id=image.pk).synced == 1


def test_similar_items_link_products_both_ways(memory_graph, settings, grocery_dir):
    settings.LOOKALIKE_SIMILAR_MIN_SCORE = -1.0
    banana = product_make("Banana")
    first = image_add_from_path(banana, grocery_dir / "train/Fruit/Banana/Banana_001.jpg")
    other_banana = product_make("Organic Banana")
    second = image_add_from_path(other_banana, grocery_dir / "train/Fruit/Banana/Banana_002.jpg")
    indexing.images_sync([first.pk, second.pk])

    assert [n.product_id for n in memory_graph.similar_list(banana.pk, limit=5)] == [other_banana.pk]
    assert [n.product_id for n in memory_graph.similar_list(other_banana.pk, limit=5)] == [banana.pk]


def test_unindexing_a_product_removes_it_and_its_edges(memory_graph, settings):
    settings.LOOKALIKE_SIMILAR_MIN_SCORE = -1.0
    first, second = product_make("First"), product_make("Second")
    images = [
        image_add_from_bytes(first, jpeg_bytes((250, 10, 10))),
        image_add_from_bytes(second, jpeg_bytes((240, 20, 20))),
    ]
    indexing.images_sync([image.pk for image in images])

    indexing.product_unindex(product_id=first.pk)

    assert first.pk not in graph_product_ids(memory_graph)
    assert memory_graph.similar_list(second.pk, limit=5) == []


def test_orphans_are_removed(memory_graph):
    image = image_add_from_bytes(product_make(), jpeg_bytes())
    indexing.image_sync(image_id=image.pk)
    ProductImage.objects.filter(pk=image.pk).delete()  # a delete the graph never heard of
    assert indexing.orphans_remove() == (0, 1)
    assert graph_image_ids(memory_graph) == set()


@pytest.mark.postgres
def test_embeddings_are_stored_each_with_its_image(memory_graph):
    product = product_make("Stored apart")
    images = [image_add_from_bytes(product, jpeg_bytes()) for _ in range(3)]
    others = ProductImage.objects.exclude(pk__in=[i.pk for i in images])
    untouched = list(others.values_list("pk", "embedding_model", "content_hash"))
    for n, image in enumerate(images):
        image.embedding = np.full(4, n, dtype="<f4").tobytes()
        image.embedding_model, image.content_hash = f"model {n}", f"hash {n}"

    indexing._embeddings_store(images)

    stored = ProductImage.objects.filter(pk__in=[i.pk for i in images]).order_by("pk")
    assert [(bytes(i.embedding), i.embedding_model, i.content_hash) for i in stored] == [
        (np.full(4, n, dtype="<f4").tobytes(), f"model {n}", f"hash {n}") for n in range(3)
    ]
    assert list(others.values_list("pk", "embedding_model", "content_hash")) == untouched
