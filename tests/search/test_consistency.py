"""The consistency check against the in-memory graph store (unit level); the Neo4j path is in tests/integration."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product, ProductImage
from search import indexing
from search.backbones import backbone_get
from search.consistency import graph_drift_find
from search.graph.base import ImageRecord, Neighbour, ProductRecord, SimilarEdge
from tests.conftest import graph_image_ids
from tests.factories import image_add_from_path, product_make

pytestmark = pytest.mark.django_db

BACKBONE = backbone_get("efficientnet_lite0")
PHOTOS = ("Fruit/Banana/Banana_001.jpg", "Fruit/Kiwi/Kiwi_001.jpg", "Fruit/Lemon/Lemon_001.jpg")


@pytest.fixture
def synced_catalog(memory_graph, grocery_dir) -> list[ProductImage]:
    # The check compares the whole catalog: out with rows other tests left for the session (rolled back after).
    Product.objects.all().delete()
    images = [
        image_add_from_path(product_make(path.split("/")[1]), grocery_dir / "train" / path) for path in PHOTOS
    ]
    indexing.images_sync([image.pk for image in images])
    return images


def test_a_synced_catalog_has_no_drift(synced_catalog, memory_graph):
    drift = graph_drift_find(backbone=BACKBONE)
    assert drift.total == 0, drift.counts()
    call_command("check_graph")  # exits cleanly


def test_each_kind_of_drift_is_found(synced_catalog, memory_graph):
    banana, kiwi, lemon = synced_catalog
    memory_graph.upsert_products([ProductRecord(990, "Gone", "gone", "X", "x", 1.0, True)])
    memory_graph.upsert_images([ImageRecord(991, 990, "gone.jpg", [1.0] * 1280, BACKBONE.name)])
    memory_graph.delete_images([banana.pk])
    memory_graph.upsert_images([ImageRecord(kiwi.pk, kiwi.product_id, "kiwi.jpg", [0.5] * 2048, "resnet50")])
    short = memory_graph.images[(BACKBONE.name, lemon.pk)]
    memory_graph.images[(BACKBONE.name, lemon.pk)] = ImageRecord(
        lemon.pk, lemon.product_id, short.path, [0.6, 0.8], BACKBONE.name
    )
    memory_graph.similar[BACKBONE.name][lemon.product_id][lemon.product_id] = 1.0  # self-loop
    memory_graph.similar_offer(
        990, [Neighbour(lemon.product_id, 0.9)], model=BACKBONE.name, keep=8
    )  # lemon -> orphan

    drift = graph_drift_find(backbone=BACKBONE)

    assert drift.missing_images == {banana.pk}
    assert drift.orphan_products == {990} and drift.orphan_images == {991}
    assert drift.stale_model_images == {kiwi.pk} and drift.wrong_dimension_images == {lemon.pk}
    assert {
        SimilarEdge(lemon.product_id, lemon.product_id),
        SimilarEdge(lemon.product_id, 990),
    } <= drift.dangling_edges
    assert drift.total >= 7


def test_check_exits_non_zero_on_drift_and_fix_repairs_it(synced_catalog, memory_graph, capsys):
    banana, kiwi, _ = synced_catalog
    memory_graph.delete_images([banana.pk])
    ProductImage.objects.filter(pk=kiwi.pk).update(sync_status="pending")

    with pytest.raises(CommandError, match="drifted"):
        call_command("check_graph")
    call_command("check_graph", "--fix")

    assert graph_drift_find(backbone=BACKBONE).total == 0
    assert banana.pk in graph_image_ids(memory_graph)
    assert set(ProductImage.objects.values_list("sync_status", flat=True)) == {"synced"}


def test_failed_images_are_reported_but_are_not_drift(synced_catalog, memory_graph):
    banana = synced_catalog[0]
    ProductImage.objects.filter(pk=banana.pk).update(sync_status="failed")
    memory_graph.delete_images([banana.pk])

    drift = graph_drift_find(backbone=BACKBONE)

    assert drift.failed_images == {banana.pk} and drift.total == 0
