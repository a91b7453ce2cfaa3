from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import override_settings
from PIL import Image

from search import indexing, serving
from search.graph import graph_store

GROCERY = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "grocery-store"


def pytest_configure() -> None:
    import os

    # Tests read the dataset from ../shared by default; a user's machine passes its own copy.
    os.environ.setdefault("LOOKALIKE_GROCERY_DIR", str(GROCERY))
    # The workers' automatic fit would switch the served version under other tests: off for the worker
    # processes tests start (they inherit this environment); `_auto_fit_off` turns it off in this process.
    os.environ["LOOKALIKE_AUTO_FIT"] = "0"


@pytest.fixture(scope="session")
def grocery_dir() -> Path:
    import os

    path = Path(os.environ["LOOKALIKE_GROCERY_DIR"])
    if not (path / "labels.csv").exists():
        pytest.fail(f"Grocery Store dataset not found at {path}; set LOOKALIKE_GROCERY_DIR")
    return path


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    # Session-wide, so the session's demo catalog and each test share one temporary media folder.
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(scope="session", autouse=True)
def _immediate_tasks():
    # Most tests check what a save leads to, so the work runs in-process after commit; the queue and its
    # worker processes have their own tests (tests/integration/test_workers.py, tests/search/ingest/test_claims.py).
    with override_settings(TASKS=IMMEDIATE_TASKS):
        yield


AUTO_FIT_TASK = "search.autofit.projection_autofit_task"


@pytest.fixture(scope="session", autouse=True)
def _auto_fit_off():
    # Django's settings were read before `pytest_configure` set the variable: off here too, and out of the
    # workers' schedule. tests/search/test_autofit.py and tests/integration/test_autofit.py turn it on.
    from django.conf import settings

    schedule = {**settings.LOOKALIKE_WORKER_SCHEDULE, AUTO_FIT_TASK: 0}
    with override_settings(LOOKALIKE_AUTO_FIT=False, LOOKALIKE_WORKER_SCHEDULE=schedule):
        yield


@pytest.fixture(autouse=True)
def _test_connection_kept_open():
    # Django closes "unusable" connections when a request ends, and inside a test's transaction every
    # connection looks so. Its test client disconnects that handler; requests made without it (schemathesis
    # calls the WSGI app) would close the test's PostgreSQL connection mid-test. Per test, because each
    # test-client request connects the handler again when it ends.
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def memory_graph(settings):
    """The in-memory graph store (unit tests only)."""
    settings.LOOKALIKE_GRAPH_STORE = "search.graph.memory.InMemoryGraphStore"
    graph_store.cache_clear()
    yield graph_store()
    graph_store.cache_clear()


def jpeg_bytes(
    color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48), **save_kwargs
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", **save_kwargs)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _insights_inline(settings):
    # Search events are written during the request, so tests see them at once (production: a background thread).
    settings.LOOKALIKE_INSIGHTS_WRITER = "inline"


# Fixtures that put the session's rows (the demo catalog) back after Django empties every table.
ROWS_KEEPERS = ("rows_kept_across_flush", "catalog_snapshot")


@pytest.fixture(autouse=True)
def _transactional_tests_keep_session_rows(request):
    """A transactional test ends with every table emptied, while the session's demo catalog stays in Neo4j:
    every later test would see 81 products in the graph and none in the database (check_graph fails far from
    the cause). Such a test must ask for a rows keeper before `transactional_db`, so it is restored after."""
    marker = request.node.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)):
        pytest.fail(
            "use `rows_kept_across_flush, transactional_db` as arguments, not django_db(transaction=True)"
        )
    names = request.fixturenames
    if "transactional_db" in names:
        keepers = [names.index(name) for name in ROWS_KEEPERS if name in names]
        if not keepers or min(keepers) > names.index("transactional_db"):
            pytest.fail("ask for rows_kept_across_flush before transactional_db")


@pytest.fixture(autouse=True)
def _schema_flag_reset():
    # Each test may point at another store; make the first write of each test ensure the schema again.
    indexing._schema_ready_for.clear()
    serving.serving_forget()
    yield


def _load_lite0_projected_640():
    """EfficientNet-Lite0's real features through a fixed random orthogonal projection to 640-d."""
    import torch

    from search.embeddings import efficientnet_lite0_load

    projection = torch.nn.Linear(1280, 640, bias=False)
    torch.nn.init.orthogonal_(projection.weight, generator=torch.Generator().manual_seed(0))
    return torch.nn.Sequential(efficientnet_lite0_load(), projection)


@pytest.fixture
def second_backbone(settings):
    """A second real backbone with other dimensions, for tests that switch backbones (test-only)."""
    from search.backbones import BACKBONES, Backbone

    lite0 = BACKBONES["efficientnet_lite0"]
    backbone = Backbone(
        name="lite0_projected_640",
        dimensions=640,
        mean=lite0.mean,
        std=lite0.std,
        loader="tests.conftest._load_lite0_projected_640",
    )
    BACKBONES[backbone.name] = backbone
    yield backbone
    del BACKBONES[backbone.name]


@pytest.fixture
def rows_kept_across_flush(django_db_setup, django_db_blocker):
    """Ask for it before `transactional_db`: Django empties every table after a transactional test, which
    would take the session's demo catalog from the tests after it; its rows are put back (not synced again)."""
    from tests.db_snapshot import db_restore, db_snapshot

    snapshot = db_snapshot(django_db_blocker)
    yield
    db_restore(snapshot, django_db_blocker)


def graph_product_ids(store) -> set[int]:
    return {record.product_id for record in store.products()}


def graph_image_ids(store) -> set[int]:
    """Ids of images with a node of any model."""
    return {shape.image_id for shape in store.image_shapes()}
