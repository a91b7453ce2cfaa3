"""The catalog shape kept per store: read once, refreshed in the background when old, kept on failure."""

from __future__ import annotations

import pytest

from core.filters import ProductFilter
from search import filter_share
from search.filter_share import catalog_shape_forget, catalog_shape_kept
from search.graph.catalog_shape import CatalogShape, FilterCell
from search.graph.memory import InMemoryGraphStore

RARE = ProductFilter(category_slug="rare")


def _shape(rare: int, common: int) -> CatalogShape:
    return CatalogShape.of([FilterCell("rare", True, 0, rare), FilterCell("common", True, 0, common)])


class ScriptedStore(InMemoryGraphStore):
    """Answers catalog_shape() with the given shapes (or raises the given errors) in turn."""

    def __init__(self, *answers: CatalogShape | Exception):
        super().__init__()
        self.answers = list(answers)
        self.reads = 0

    def catalog_shape(self) -> CatalogShape:
        self.reads += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture(autouse=True)
def _fresh():
    catalog_shape_forget()
    yield
    catalog_shape_forget()


def _refresh_done() -> None:
    with filter_share._refreshing:  # held by the background refresh until it is done
        pass


def test_the_shape_is_read_once_then_kept():
    store = ScriptedStore(_shape(1, 9))
    assert [filter_share.filter_share(store, RARE) for _ in range(3)] == [0.1] * 3
    assert filter_share.filter_share(store, ProductFilter()) == 1.0  # no filter: no shape needed
    assert store.reads == 1


def test_an_old_shape_serves_while_a_new_one_is_read_in_the_background(monkeypatch):
    store = ScriptedStore(_shape(1, 9), _shape(1, 1))
    catalog_shape_kept(store)
    monkeypatch.setattr(filter_share, "CATALOG_SHAPE_MAX_AGE_S", -1.0)
    assert filter_share.filter_share(store, RARE) == 0.1  # the old one, at once
    _refresh_done()
    assert store.reads == 2
    monkeypatch.setattr(filter_share, "CATALOG_SHAPE_MAX_AGE_S", 300.0)
    assert filter_share.filter_share(store, RARE) == 0.5


def test_a_failed_refresh_keeps_the_old_shape_and_is_tried_again(monkeypatch, caplog):
    store = ScriptedStore(_shape(1, 9), RuntimeError("graph down"), _shape(1, 3))
    catalog_shape_kept(store)
    monkeypatch.setattr(filter_share, "CATALOG_SHAPE_MAX_AGE_S", -1.0)
    assert filter_share.filter_share(store, RARE) == 0.1
    _refresh_done()
    assert "Catalog shape refresh failed" in caplog.text
    assert filter_share.filter_share(store, RARE) == 0.1  # still the old one; this call tried again
    _refresh_done()
    assert store.reads == 3
    monkeypatch.setattr(filter_share, "CATALOG_SHAPE_MAX_AGE_S", 300.0)
    assert filter_share.filter_share(store, RARE) == 0.25


def test_forgetting_reads_the_shape_again():
    store = ScriptedStore(_shape(1, 9), _shape(1, 4))
    assert filter_share.filter_share(store, RARE) == 0.1
    catalog_shape_forget()
    assert filter_share.filter_share(store, RARE) == 0.2
