"""Long commands end cleanly on Ctrl-C and say what failed and why (in-memory graph store)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from catalog.models import ProductImage, SyncStatus
from search import indexing
from search.progress import INTERRUPTED
from tests.factories import image_add_from_bytes, image_add_from_path, product_make

pytestmark = pytest.mark.django_db


def test_sync_graph_names_each_failed_image_and_why(memory_graph, grocery_dir, capsys):
    product = product_make("Banana")
    image_add_from_path(product, grocery_dir / "train/Fruit/Banana/Banana_001.jpg")
    broken = image_add_from_bytes(product, b"%PDF-1.4 not an image")
    call_command("sync_graph")
    out = capsys.readouterr().out
    assert "Synced 1 images; 1 failed" in out
    assert f"image {broken.pk} ({broken.image.name}) failed: Not a readable image" in out


@pytest.mark.parametrize("command", ["sync_graph", "rebuild_similarity"])
def test_interrupted_commands_exit_130_with_a_resume_hint(memory_graph, grocery_dir, monkeypatch, command):
    image = image_add_from_path(product_make("Banana"), grocery_dir / "train/Fruit/Banana/Banana_001.jpg")
    indexing.image_sync(image_id=image.pk)
    ProductImage.objects.filter(pk=image.pk).update(sync_status=SyncStatus.PENDING)

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("search.management.commands.sync_graph.images_sync", ctrl_c)
    monkeypatch.setattr("search.management.commands.rebuild_similarity.similar_rebuild_stored", ctrl_c)
    with pytest.raises(CommandError, match=INTERRUPTED[:30]) as raised:
        call_command(command)
    assert raised.value.returncode == 130


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--views", "-1"], "--views must be 0 or more"),
        (["--head", "--dimensions", "80"], "--head trains on the whitening's full dimensions"),
    ],
)
def test_fit_projection_refuses_options_it_cannot_honour(memory_graph, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("fit_projection", *args)
