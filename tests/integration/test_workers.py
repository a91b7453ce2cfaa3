"""The queue with real `sync_worker` processes on the real PostgreSQL, the real Neo4j and real photos.

The rows the workers read must be committed, so these tests write outside the test transaction (as the
session's demo catalog does) and delete what they added afterwards.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Category, Product, ProductImage, SyncStatus
from catalog.services import category_get_or_create, product_create, product_delete, product_image_add
from search import indexing
from search.graph import GraphUnavailable, graph_store
from search.ingest.worker import SyncWorker
from search.similar_edges import product_neighbours_compute
from search.tasks import image_sync_task
from tests.conftest import graph_image_ids
from tests.integration.test_faults import _image_links, _photo_folder, only_local_neo4j
from tests.integration.test_graph_sync import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
UNFINISHED = [TaskResultStatus.READY, TaskResultStatus.RUNNING]


@pytest.fixture
def committed(neo4j_graph, django_db_blocker):
    """Committed writes with the queue as the task backend; afterwards, the test's products are deleted."""
    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the database: run on PostgreSQL (`make test` starts it)")
    # pytest-django creates the test database only for a session with a `django_db` test (this module has one).
    assert connection.settings_dict["NAME"].startswith("test_"), "refusing to write to a non-test database"
    with django_db_blocker.unblock():
        before = set(Product.objects.values_list("pk", flat=True))
        with override_settings(TASKS=QUEUE):
            yield
        DBTaskResult.objects.all().delete()
        for product in Product.objects.exclude(pk__in=before):
            product_delete(product=product)  # the immediate backend takes it out of the graph too
        Category.objects.filter(products__isnull=True).delete()


@pytest.fixture
def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "LOOKALIKE_TASK_BACKEND"}
    env.update(
        {
            "DATABASE_URL": f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "LOOKALIKE_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "DJANGO_SECRET_KEY": "test-only-not-secret",
            "LOOKALIKE_NEO4J_INSTANCE": "test",
            # Two workers on two cores: one torch thread each (docs/benchmarks.md, "a hazard").
            "LOOKALIKE_TORCH_THREADS": "1",
            "LOOKALIKE_GRAPH_RETRY_S": "1",
            "LOOKALIKE_GRAPH_RETRY_MAX_S": "4",
        }
    )
    return env


def _worker(env: dict[str, str], log: Path, worker_id: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "sync_worker",
            "--worker-id",
            worker_id,
            "--idle-sleep-s",
            "0.2",
            *args,
        ],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def _neo4j(action: str) -> None:
    # Generous: on a busy shared machine the test server has taken over two minutes to start.
    subprocess.run(
        [str(ROOT / "scripts" / "neo4j"), action, "test"],
        check=True,
        capture_output=True,
        timeout=660,
        env={**os.environ, "NEO4J_START_TIMEOUT_S": "600"},
    )


def _wait_for(condition, *, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.05)


def _graph_answers() -> bool:
    try:
        graph_store().stats()
    except GraphUnavailable:  # a pooled connection to the stopped server fails once, then is dropped
        return False
    return True


def _frozen_holding(worker: subprocess.Popen, worker_id: str) -> bool:
    """Freeze the worker and look whether it holds claimed tasks; thaw it if not. On an idle machine a batch
    can finish between a look and a kill: frozen (SIGSTOP), what it holds cannot change until it dies."""
    worker.send_signal(signal.SIGSTOP)
    if _held_by(worker_id):
        return True
    worker.send_signal(signal.SIGCONT)
    return False


def _held_by(worker_id: str) -> list:
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    return [task.id for task in running if task.worker_ids[-1:] == [worker_id]]


def _successes_per_image() -> dict[int, int]:
    counts: dict[int, int] = {}
    for task in DBTaskResult.objects.filter(
        status=TaskResultStatus.SUCCESSFUL, task_path=image_sync_task.module_path
    ):
        if "synced_by" in (task.return_value or {}):
            image_id = task.args_kwargs["kwargs"]["image_id"]
            counts[image_id] = counts.get(image_id, 0) + 1
    return counts


def _apple(grocery_dir: Path) -> ProductImage:
    photo = next((grocery_dir / "train").glob("*/*/*_001.jpg"))
    product = product_create(name="Queued apple", price=1, category=category_get_or_create(name="Fruit"))
    with photo.open("rb") as handle:
        return product_image_add(product=product, file=handle, filename=photo.name)


@pytest.mark.django_db
def test_with_the_queue_a_save_only_enqueues(settings, grocery_dir, django_capture_on_commit_callbacks):
    settings.TASKS = QUEUE
    with django_capture_on_commit_callbacks(execute=True):
        image = _apple(grocery_dir)

    image.refresh_from_db()
    assert image.sync_status == SyncStatus.PENDING and image.embedding is None  # the save did not embed
    queued = DBTaskResult.objects.get(args_kwargs__kwargs__image_id=image.pk)
    assert queued.status == TaskResultStatus.READY and queued.task_path == image_sync_task.module_path


@pytest.mark.django_db
def test_until_a_worker_syncs_them_the_admin_and_the_api_show_each_images_state(
    settings,
    admin_client,
    admin_user,
    grocery_dir,
    neo4j_graph,
    graph_cleanup,
    django_capture_on_commit_callbacks,
):
    settings.TASKS = QUEUE
    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user).key}")
    category_get_or_create(name="Fruit")
    with django_capture_on_commit_callbacks(execute=True):
        created = staff.post(
            "/api/v1/products/", {"name": "Queued kiwi", "price": "2.00", "category": "fruit"}
        )
        product_id = created.json()["id"]
        photo = grocery_dir / "train/Fruit/Kiwi/Kiwi_030.jpg"
        added = staff.post(
            f"/api/v1/products/{product_id}/images/",
            {"image": SimpleUploadedFile(photo.name, photo.read_bytes())},
            format="multipart",
        )
        # As an import would store it: the API and the admin refuse undecodable uploads.
        poison = product_image_add(
            product=Product.objects.get(pk=product_id),
            file=io.BytesIO(b"\xff\xd8\xff broken"),
            filename="b.jpg",
        )
    graph_cleanup.append(product_id)
    assert added.status_code == 201 and added.json()["sync_status"] == "pending"
    image_id = added.json()["id"]

    def admin_listed(status: str) -> str:
        changelist = reverse("admin:catalog_productimage_changelist")
        return admin_client.get(f"{changelist}?sync_status__exact={status}").content.decode()

    def change_link(pk: int) -> str:
        return f"/catalog/productimage/{pk}/change/"

    pending = admin_listed("pending")
    assert change_link(image_id) in pending and change_link(poison.pk) in pending
    states = staff.get(f"/api/v1/products/{product_id}/images/").json()
    assert {i["id"]: i["sync_status"] for i in states} == {image_id: "pending", poison.pk: "pending"}

    indexing.images_sync([image_id, poison.pk])  # what a worker runs on its batch

    states = staff.get(f"/api/v1/products/{product_id}/images/")
    assert states.status_code == 200
    assert {i["id"]: (i["sync_status"], i["sync_error"][:20]) for i in states.json()} == {
        image_id: ("synced", ""),
        poison.pk: ("failed", "Not a readable image"),
    }
    assert APIClient().get(f"/api/v1/products/{product_id}/images/").status_code in (401, 403)  # staff only
    failed, synced, pending = admin_listed("failed"), admin_listed("synced"), admin_listed("pending")
    assert change_link(poison.pk) in failed and "Not a readable image" in failed  # with its error
    assert change_link(image_id) in synced and change_link(image_id) not in pending + failed
    product_page = admin_client.get(
        reverse("admin:catalog_product_change", args=[product_id])
    ).content.decode()
    assert "<p>Failed</p>" in product_page and "Not a readable image" in product_page  # the inline too


def _queued_products(grocery_dir: Path, photo_counts: dict[str, int], *, poison_last: str = "") -> dict:
    """Products of Kiwi photos saved with the queue (their syncs READY, in this order); `poison_last` gets an
    undecodable image last."""
    photos = iter(sorted((grocery_dir / "train/Fruit/Kiwi").glob("*.jpg")))
    products = {}
    for name, count in photo_counts.items():
        product = product_create(name=name, price=1, category=category_get_or_create(name="Fruit"))
        for _ in range(count):
            photo = next(photos)
            with photo.open("rb") as handle:
                product_image_add(product=product, file=handle, filename=photo.name)
        if name == poison_last:
            product_image_add(product=product, file=io.BytesIO(b"\xff\xd8\xff broken"), filename="b.jpg")
        products[name] = product
    return products


@pytest.fixture
def refreshes(monkeypatch) -> list[int]:
    """Products whose SIMILAR_TO a sync refreshes, in order (the real refresh still runs)."""
    seen: list[int] = []
    real = indexing.product_similar_refresh

    def spy(*, product_id: int, model: str, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(product_id)
        return real(product_id=product_id, model=model, **kwargs)

    monkeypatch.setattr(indexing, "product_similar_refresh", spy)
    return seen


@pytest.mark.django_db
def test_a_products_similar_items_wait_for_its_last_queued_image(
    settings, grocery_dir, neo4j_graph, graph_cleanup, refreshes, django_capture_on_commit_callbacks
):
    settings.TASKS = QUEUE
    with django_capture_on_commit_callbacks(execute=True):
        products = _queued_products(grocery_dir, {"Kiwi A": 1, "Kiwi B": 3})
    neighbour, product = products["Kiwi A"].pk, products["Kiwi B"].pk
    graph_cleanup.extend([neighbour, product])
    worker = SyncWorker(worker_id="test", batch_size=2, lease_s=120)

    assert worker.step()  # Kiwi A's photo: Kiwi B's three would not fit beside it
    assert refreshes == [neighbour]
    assert worker.step()  # B's first two: its third is still queued
    assert refreshes == [neighbour]
    assert worker.step()  # B's last
    assert refreshes == [neighbour, product]
    assert not worker.step()

    ours = ProductImage.objects.filter(product__in=[neighbour, product])
    assert set(ours.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}
    model = settings.LOOKALIKE_BACKBONE
    fresh = product_neighbours_compute(product_id=product, model=model)
    assert neighbour in [n.product_id for n in fresh]
    assert neo4j_graph.similar_list(product, limit=10, model=model) == fresh
    call_command("check_graph")


@pytest.mark.django_db
def test_a_deferred_refresh_runs_when_the_products_last_queued_image_fails(
    settings, grocery_dir, neo4j_graph, graph_cleanup, refreshes, django_capture_on_commit_callbacks
):
    settings.TASKS = QUEUE
    with django_capture_on_commit_callbacks(execute=True):
        products = _queued_products(grocery_dir, {"Kiwi A": 1, "Kiwi B": 2}, poison_last="Kiwi B")
    neighbour, product = products["Kiwi A"].pk, products["Kiwi B"].pk
    graph_cleanup.extend([neighbour, product])
    worker = SyncWorker(worker_id="test", batch_size=2, lease_s=120)

    assert worker.step()  # A's photo: B's three images would not fit beside it
    assert refreshes == [neighbour]
    assert worker.step()  # B's photos: its broken image is still queued
    assert refreshes == [neighbour]
    assert worker.step()  # the broken image fails alone, and B is refreshed
    assert not worker.step()

    assert refreshes == [neighbour, product]
    statuses = sorted(ProductImage.objects.filter(product=product).values_list("sync_status", flat=True))
    assert statuses == [SyncStatus.FAILED, SyncStatus.SYNCED, SyncStatus.SYNCED]
    model = settings.LOOKALIKE_BACKBONE
    assert neo4j_graph.similar_list(product, limit=10, model=model) == product_neighbours_compute(
        product_id=product, model=model
    )
    call_command("check_graph")


def test_a_worker_process_syncs_what_a_save_queued(committed, worker_env, grocery_dir, tmp_path, neo4j_graph):
    image = _apple(grocery_dir)
    assert image.pk not in graph_image_ids(neo4j_graph)

    worker = _worker(worker_env, tmp_path / "worker.log", "only", "--exit-when-idle")
    assert worker.wait(timeout=300) == 0, (tmp_path / "worker.log").read_text()

    image.refresh_from_db()
    assert image.sync_status == SyncStatus.SYNCED and image.embedding_model == settings.LOOKALIKE_BACKBONE
    assert _image_links([image.pk]) == {image.pk: 1}
    assert _successes_per_image() == {image.pk: 1}


def test_two_worker_processes_never_split_a_product(
    committed, worker_env, grocery_dir, tmp_path, neo4j_graph
):
    products = _queued_products(grocery_dir, {f"Kiwi {n}": 3 for n in range(6)})
    # Batches of 4: the oldest 4 tasks would be one product and the next one's first photo.
    workers = [
        _worker(worker_env, tmp_path / f"w{n}.log", f"w{n}", "--exit-when-idle", "--batch-size", "4")
        for n in (1, 2)
    ]
    exits = [worker.wait(timeout=300) for worker in workers]
    assert exits == [0, 0], "\n".join((tmp_path / f"w{n}.log").read_text()[-3000:] for n in (1, 2))

    # A claim is a worker and its lease stamp, which it renews for all its tasks at once.
    product_of = dict(ProductImage.objects.values_list("pk", "product_id"))
    claims: dict[int, set] = {}
    for task in DBTaskResult.objects.filter(task_path=image_sync_task.module_path):
        claim = (task.worker_ids[-1], task.started_at)
        claims.setdefault(product_of[task.args_kwargs["kwargs"]["image_id"]], set()).add(claim)
    assert {product.pk: len(claims[product.pk]) for product in products.values()} == {
        product.pk: 1 for product in products.values()
    }
    ours = ProductImage.objects.filter(product__in=products.values())
    assert set(ours.values_list("sync_status", flat=True)) == {SyncStatus.SYNCED}
    assert set(_successes_per_image().values()) == {1}
    call_command("check_graph")


@pytest.mark.neo4j_restart
@only_local_neo4j
def test_workers_killed_and_neo4j_stopped_mid_import_end_with_every_image_synced_once(
    committed, worker_env, grocery_dir, tmp_path, neo4j_graph
):
    folder = _photo_folder(grocery_dir, tmp_path / "photos", 40)
    existing = set(ProductImage.objects.values_list("pk", flat=True))
    call_command("import_catalog", str(folder))  # with the queue: saves and queues, embeds nothing
    images = set(ProductImage.objects.values_list("pk", flat=True)) - existing
    poison_product = product_create(name="Poison", price=1, category=category_get_or_create(name="Fruit"))
    poison = product_image_add(
        product=poison_product, file=io.BytesIO(b"\xff\xd8\xff not a jpeg"), filename="p.jpg"
    )
    assert len(images) == 40 and DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 41
    lease = ("--batch-size", "8", "--lease-s", "6")

    # One worker takes batches; SIGKILL it while it holds one, after it has synced at least one.
    doomed = _worker(worker_env, tmp_path / "doomed.log", "doomed", *lease)
    try:
        _wait_for(
            lambda: (
                ProductImage.objects.filter(sync_status=SyncStatus.SYNCED).exists()
                and _frozen_holding(doomed, "doomed")
            ),
            timeout_s=300,
            what="the first worker to sync a batch and be caught holding the next",
        )
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
    finally:
        doomed.kill()
    orphaned = _held_by("doomed")
    assert orphaned, "the killed worker held no tasks"

    # Neo4j goes away; two more workers start and keep finding it down: their batches wait and retry.
    _neo4j("stop")
    workers = [_worker(worker_env, tmp_path / f"w{n}.log", f"w{n}", *lease) for n in (1, 2)]
    try:
        try:
            # The first batch put back may hold only images the killed worker had synced (their tasks left
            # RUNNING): none of them pending. A batch it had not synced follows within the retry delays.
            _wait_for(
                lambda: (
                    DBTaskResult.objects.filter(
                        status=TaskResultStatus.READY, run_after__year__lt=9999
                    ).exists()
                    and ProductImage.objects.filter(sync_status=SyncStatus.PENDING)
                    .exclude(sync_error="")
                    .exists()
                ),
                timeout_s=300,
                what="a batch to be put back with a retry delay, its images pending with the error, while Neo4j is down",
            )
        finally:
            _neo4j("start")
        _wait_for(
            lambda: not DBTaskResult.objects.filter(status__in=UNFINISHED).exists(),
            timeout_s=600,
            what="the queue to empty",
        )
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        exits = [worker.wait(timeout=120) for worker in workers]
    logs = "\n".join((tmp_path / f"{name}.log").read_text()[-3000:] for name in ("doomed", "w1", "w2"))
    assert exits == [0, 0], logs
    _wait_for(_graph_answers, timeout_s=60, what="this process's Neo4j driver to drop its dead connections")

    statuses = dict(ProductImage.objects.filter(pk__in=images | {poison.pk}).values_list("pk", "sync_status"))
    assert {statuses[i] for i in images} == {SyncStatus.SYNCED}, logs
    poison.refresh_from_db()
    assert poison.sync_status == SyncStatus.FAILED and "readable image" in poison.sync_error
    assert DBTaskResult.objects.get(args_kwargs__kwargs__image_id=poison.pk).status == TaskResultStatus.FAILED
    # The killed worker's tasks ran again elsewhere; every image was synced by exactly one task, and is one node.
    for task in DBTaskResult.objects.filter(id__in=orphaned):
        assert task.status == TaskResultStatus.SUCCESSFUL and task.worker_ids[0] == "doomed"
        assert task.worker_ids[-1] in {"w1", "w2"}
    assert _successes_per_image() == {image_id: 1 for image_id in images}
    assert _image_links(sorted(images)) == {image_id: 1 for image_id in images}
    assert poison.pk not in graph_image_ids(neo4j_graph)
    call_command("check_graph")
