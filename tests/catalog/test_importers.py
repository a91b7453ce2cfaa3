from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.importers import (
    CatalogSourceError,
    grocery_store_query_photos,
    rows_from_csv,
    rows_from_folder,
    rows_from_grocery_store,
)
from tests.conftest import jpeg_bytes


def test_csv_rows_group_by_name_and_parse_prices(tmp_path):
    (tmp_path / "a.jpg").write_bytes(jpeg_bytes())
    (tmp_path / "catalog.csv").write_text(
        "image,name,category,description,price\na.jpg,Red mug,Kitchen,A mug,4.5\na.jpg,Red mug,Kitchen,,\n"
    )
    rows = rows_from_csv(tmp_path, tmp_path / "catalog.csv")
    assert [(r.name, r.category, r.price) for r in rows] == [
        ("Red mug", "Kitchen", Decimal("4.50")),
        ("Red mug", "Kitchen", Decimal("0.00")),
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        ("name\nx\n", "missing column"),
        ("image,name,price\na.jpg,Mug,cheap\n", "not a number"),
        ("image,name\n../../etc/passwd,Mug\n", "leaves"),
    ],
)
def test_csv_errors_are_clear(tmp_path, content, message):
    (tmp_path / "c.csv").write_text(content)
    with pytest.raises(CatalogSourceError, match=message):
        rows_from_csv(tmp_path, tmp_path / "c.csv")


def test_folder_rows_one_product_per_image(tmp_path):
    (tmp_path / "Mugs").mkdir()
    (tmp_path / "Mugs" / "blue_mug.jpg").write_bytes(jpeg_bytes())
    (tmp_path / "notes.txt").write_text("not an image")
    rows = rows_from_folder(tmp_path)
    assert [(r.name, r.category) for r in rows] == [("blue mug", "Mugs")]


def test_grocery_store_rows_and_queries_do_not_overlap(grocery_dir):
    rows = rows_from_grocery_store(grocery_dir, shop_photos_per_product=2)
    names = {r.name for r in rows}
    assert len(names) == 81 and len(rows) == 81 * 3
    assert all(r.price > 0 for r in rows)
    golden = next(r for r in rows if r.name == "Golden Delicious")
    assert golden.description.startswith("Golden Delicious has a white juicy pulp")
    assert golden.category == "Apple"
    queries = grocery_store_query_photos(grocery_dir, shop_photos_per_product=2)
    assert not {path for path, _ in queries} & {r.image for r in rows}
    assert len(queries) == 2640 - 81 * 2
    assert {label for _, label in queries} <= names
