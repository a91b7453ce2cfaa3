from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import override_settings
from PIL import Image

from search import indexing
from search.graph import graph_store

GROCERY = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "grocery-store"


def pytest_configure() -> None:
    import os

    # Tests read the dataset from ../shared by default; a user's machine passes its own copy.
    os.environ.setdefault("LOOKALIKE_GROCERY_DIR", str(GROCERY))


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


@pytest.fixture
def memory_graph(settings):
    """The in-memory graph store (unit tests only)."""
    settings.LOOKALIKE_GRAPH_STORE = "search.graph.memory.InMemoryGraphStore"
    graph_store.cache_clear()
    yield graph_store()
    graph_store.cache_clear()


def jpeg_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48), **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", **save_kwargs)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _schema_flag_reset():
    # Each test may point at another store; make the first write of each test ensure the schema again.
    indexing._schema_ready_for.clear()
    yield
