"""Switching backbones with `reembed`, against the in-memory store (unit level); Neo4j in tests/integration."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Product, ProductImage, SyncStatus
from search import indexing, reembed
from search.graph import GraphUnavailable
from search.graph.base import ImageRecord
from search.graph.memory import InMemoryGraphStore
from search.reembed import backbone_reembed
from search.similarity import search_by_image
from tests.factories import image_add_from_path, product_make

pytestmark = pytest.mark.django_db

PHOTOS = {
    "Banana": "train/Fruit/Banana/Banana_001.jpg",
    "Lemon": "train/Fruit/Lemon/Lemon_010.jpg",
    "Milk": "train/Packages/Milk/Arla-Standard-Milk/Arla-Standard-Milk_001.jpg",
}
QUERY = "train/Fruit/Lemon/Lemon_020.jpg"


@contextmanager
def _no_progress(total, description, unit):
    yield lambda n: None


@pytest.fixture
def synced_catalog(memory_graph, grocery_dir, settings, monkeypatch):
    # reembed covers the whole catalog: out with rows other tests left for the session (rolled back after).
    Product.objects.all().delete()
    monkeypatch.setattr(reembed, "SWITCH_GRACE_S", 0)  # one process here: no other cache to wait for
    settings.LOOKALIKE_SIMILAR_MIN_SCORE = -1.0
    images = [image_add_from_path(product_make(name), grocery_dir / path) for name, path in PHOTOS.items()]
    indexing.images_sync([image.pk for image in images])
    return images


def _search(grocery_dir) -> list[str]:
    upload = SimpleUploadedFile("q.jpg", (grocery_dir / QUERY).read_bytes(), content_type="image/jpeg")
    return [match.product.name for match in search_by_image(upload=upload, k=3)]


def test_reembed_switches_backbone_and_drops_the_old_vectors(
    synced_catalog, memory_graph, second_backbone, settings, grocery_dir
):
    before = _search(grocery_dir)
    settings.LOOKALIKE_BACKBONE = second_backbone.name

    report = backbone_reembed(progress=_no_progress)

    assert report.switched and report.previous_model == "efficientnet_lite0" and report.embedded == 3
    assert memory_graph.serving_model() == second_backbone.name
    assert {model for model, _ in memory_graph.images} == {second_backbone.name}
    assert all(len(i.embedding) == 640 for i in memory_graph.images.values())
    assert set(ProductImage.objects.values_list("embedding_model", flat=True)) == {second_backbone.name}
    assert set(memory_graph.similar) == {second_backbone.name}
    after = _search(grocery_dir)
    assert after[0] == before[0] == "Lemon"


def test_until_the_switch_searches_read_the_served_model_only(
    synced_catalog, memory_graph, second_backbone, settings, grocery_dir
):
    settings.LOOKALIKE_BACKBONE = second_backbone.name
    newcomer = image_add_from_path(product_make("Lemon twin"), grocery_dir / QUERY)
    indexing.images_sync([newcomer.pk])  # saved under the new configuration: the new model's index only

    assert memory_graph.serving_model() == "efficientnet_lite0"
    assert "Lemon twin" not in _search(grocery_dir)
    backbone_reembed(progress=_no_progress)
    assert _search(grocery_dir)[0] == "Lemon twin"


class FailingAfterOneUpsert(InMemoryGraphStore):
    """A fake store whose server goes away after the first batch of images (unit tests only)."""

    upserts_allowed = 1

    def upsert_images(self, images):
        if self.upserts_allowed <= 0:
            raise GraphUnavailable("simulated outage")
        self.upserts_allowed -= 1
        super().upsert_images(images)


def test_an_interrupted_reembed_keeps_serving_the_old_model_and_resumes(
    synced_catalog, memory_graph, second_backbone, settings, monkeypatch
):
    settings.LOOKALIKE_BACKBONE = second_backbone.name
    monkeypatch.setattr(indexing, "SYNC_CHUNK", 2)
    memory_graph.__class__ = FailingAfterOneUpsert

    interrupted = backbone_reembed(progress=_no_progress)

    assert interrupted.graph_error and not interrupted.switched
    assert memory_graph.serving_model() == "efficientnet_lite0"
    assert (
        ProductImage.objects.filter(
            embedding_model=second_backbone.name, sync_status=SyncStatus.SYNCED
        ).count()
        == 2
    )

    memory_graph.__class__ = InMemoryGraphStore
    resumed = backbone_reembed(progress=_no_progress)

    assert resumed.switched and resumed.embedded == 1  # only the image the outage left pending
    assert {model for model, _ in memory_graph.images} == {second_backbone.name}


def test_reembed_with_the_served_backbone_changes_nothing_but_stale_images(synced_catalog, memory_graph):
    report = backbone_reembed(progress=_no_progress)
    assert not report.switched and report.embedded == 0 and report.products_linked == 3
    assert memory_graph.serving_model() == "efficientnet_lite0"


def test_a_run_stopped_after_its_switch_has_its_old_vectors_dropped_by_the_next(
    synced_catalog, memory_graph, second_backbone, settings
):
    settings.LOOKALIKE_BACKBONE = second_backbone.name
    backbone_reembed(progress=_no_progress)
    leftover = synced_catalog[0]  # as if the run had been stopped between the switch and the drop
    memory_graph.upsert_images(
        [ImageRecord(leftover.pk, leftover.product_id, "x.jpg", [1.0] * 1280, "efficientnet_lite0")]
    )

    report = backbone_reembed(progress=_no_progress)

    assert not report.switched and memory_graph.image_models() == {second_backbone.name}


def test_check_graph_reports_a_pending_switch_but_never_makes_it(
    synced_catalog, memory_graph, second_backbone, settings, capsys
):
    from django.core.management import CommandError, call_command

    settings.LOOKALIKE_BACKBONE = second_backbone.name
    with pytest.raises(CommandError, match="drifted"):
        call_command("check_graph", "--fix")
    assert "run `manage.py reembed`" in capsys.readouterr().out
    assert memory_graph.serving_model() == "efficientnet_lite0"
    assert "efficientnet_lite0" in memory_graph.image_models()
