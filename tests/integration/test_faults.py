"""Faults against the real stack: Neo4j stopped mid-import, an import killed with SIGKILL, pages while Neo4j is down."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog.models import Product, ProductImage, SyncStatus
from search.indexing import orphans_remove
from tests.conftest import graph_image_ids, graph_product_ids
from tests.integration.graph_cypher import cypher
from tests.integration.test_graph_sync import ROOT, _neo4j

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

only_local_neo4j = pytest.mark.skipif(
    bool(os.environ.get("NEO4J_BOLT_URL")), reason="only the local test server can be stopped"
)
# The subprocess's catalog numbers its rows from here, so its nodes never collide with the test catalog's.
SUBPROCESS_ID_START = 900_000_000


def _photo_folder(grocery_dir: Path, folder: Path, count: int, skip: int = 0) -> Path:
    """`count` real photos from different classes, in the one-product-per-image layout."""
    photos = sorted((grocery_dir / "train").glob("*/*/*_00[1-9].jpg"))[skip : skip + count]
    folder.mkdir(parents=True, exist_ok=True)
    for photo in photos:
        shutil.copy(photo, folder / photo.name)
    return folder


def _image_links(image_ids: list[int]) -> dict[int, int]:
    """How many products each image node hangs off: exactly one when nothing was projected twice."""
    rows = cypher(
        "MATCH (i:Image) WHERE i.image_id IN $ids OPTIONAL MATCH (p:Product)-[r:HAS_IMAGE]->(i) "
        "RETURN i.image_id, count(r)",
        {"ids": image_ids},
    )
    return dict(rows)


@pytest.mark.neo4j_restart
@only_local_neo4j
def test_neo4j_stopped_during_a_bulk_import_loses_nothing_and_pages_degrade(
    demo_catalog, neo4j_graph, graph_cleanup, grocery_dir, tmp_path, client
):
    folder = _photo_folder(grocery_dir, tmp_path / "photos", 3)
    call_command("import_catalog", str(folder))  # the first batch reaches the graph
    _neo4j("stop")
    try:
        _photo_folder(grocery_dir, folder, 4, skip=3)
        call_command("import_catalog", str(folder))  # the rest is saved; the graph is gone
        assert ProductImage.objects.filter(sync_status=SyncStatus.PENDING).count() == 4

        product = Product.objects.get(pk=demo_catalog["Granny Smith"])
        page = client.get(product.get_absolute_url())
        assert page.status_code == 200 and b"Similar items are temporarily unavailable" in page.content
        assert page.context["similar"] == []
        photo = SimpleUploadedFile(
            "q.jpg", next(folder.glob("*.jpg")).read_bytes(), content_type="image/jpeg"
        )
        search = client.post(reverse("search:photo-search"), {"photo": photo})
        assert search.status_code == 503 and b"temporarily unavailable" in search.content
        assert b"Traceback" not in search.content and b"ServiceUnavailable" not in search.content
        with pytest.raises(CommandError, match="Start Neo4j"):
            call_command("sync_graph")
    finally:
        _neo4j("start")
    new_images = list(
        ProductImage.objects.exclude(product_id__in=demo_catalog.values()).values_list("pk", flat=True)
    )
    graph_cleanup.extend(Product.objects.exclude(pk__in=demo_catalog.values()).values_list("pk", flat=True))

    call_command("sync_graph")

    assert len(new_images) == 7
    assert set(ProductImage.objects.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}
    assert _image_links(new_images) == {image_id: 1 for image_id in new_images}
    assert neo4j_graph.stats().images == ProductImage.objects.count()
    call_command("check_graph")
    # Django was never restarted: the same client gets similar items and search results again.
    assert client.get(product.get_absolute_url()).context["similar"]
    photo = SimpleUploadedFile("q.jpg", next(folder.glob("*.jpg")).read_bytes(), content_type="image/jpeg")
    assert client.post(reverse("search:photo-search"), {"photo": photo}).context["results"]


def _manage(env: dict[str, str], *args: str, **popen_kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **popen_kwargs,
    )


def _rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path, timeout=10) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def subprocess_catalog(tmp_path, neo4j_graph):
    """Environment for manage.py subprocesses: their own SQLite file and media, the test Neo4j."""
    db_path = tmp_path / "subprocess.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "LOOKALIKE_MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SECRET_KEY": "test-only-not-secret",
        "LOOKALIKE_NEO4J_INSTANCE": "test",
        # No worker here: the import embeds in-process, as it did before the queue (tested in test_workers.py).
        "LOOKALIKE_TASK_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
    }
    migrate = _manage(env, "migrate", "--noinput")
    assert migrate.wait(timeout=300) == 0, migrate.stdout.read().decode()
    with sqlite3.connect(db_path) as connection:
        connection.executemany(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
            [("catalog_product", SUBPROCESS_ID_START), ("catalog_productimage", SUBPROCESS_ID_START)],
        )
    yield env, db_path
    orphans_remove()  # the subprocess's products are orphans to the test catalog: out of the graph again


def test_import_killed_with_sigkill_and_run_again_ends_complete(
    subprocess_catalog, grocery_dir, tmp_path, neo4j_graph
):
    env, db_path = subprocess_catalog
    folder = _photo_folder(grocery_dir, tmp_path / "photos", 24)
    images_sql = "SELECT id, sync_status FROM catalog_productimage"

    first = _manage(env, "import_catalog", str(folder))
    saved: list[tuple] = []
    deadline = time.monotonic() + 240
    while len(saved) < 3 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
        saved = _rows(db_path, images_sql)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    at_kill = _rows(db_path, images_sql)
    assert first.returncode == -signal.SIGKILL
    assert (
        len(at_kill) >= 3 and sum(status == SyncStatus.SYNCED for _, status in at_kill) < 24
    )  # really cut short

    second = _manage(env, "import_catalog", str(folder))
    output = second.communicate(timeout=600)[0].decode()
    assert second.returncode == 0, output

    images = dict(_rows(db_path, images_sql))
    assert len(images) == 24 and set(images.values()) == {SyncStatus.SYNCED}
    assert len(_rows(db_path, "SELECT DISTINCT content_hash FROM catalog_productimage")) == 24
    in_graph = {i for i in graph_image_ids(neo4j_graph) if i > SUBPROCESS_ID_START}
    assert in_graph == set(images)
    assert _image_links(sorted(images)) == {image_id: 1 for image_id in images}
    products = {row[0] for row in _rows(db_path, "SELECT id FROM catalog_product")}
    assert {p for p in graph_product_ids(neo4j_graph) if p > SUBPROCESS_ID_START} == products
