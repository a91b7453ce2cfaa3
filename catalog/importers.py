"""Reads catalogue sources into rows: a CSV, a plain folder of images, or the Grocery Store dataset."""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


class CatalogSourceError(ValueError):
    pass


@dataclass(frozen=True)
class CatalogRow:
    image: Path
    name: str
    category: str
    description: str = ""
    price: Decimal = Decimal("0.00")
    in_stock: bool = True


def _price(text: str, line: int) -> Decimal:
    try:
        return Decimal(text.strip() or "0").quantize(Decimal("0.01"))
    except InvalidOperation:
        raise CatalogSourceError(f"line {line}: price {text!r} is not a number") from None


def rows_from_csv(root: Path, csv_path: Path) -> list[CatalogRow]:
    """CSV columns: image (relative to root), name, category, and optionally description, price, in_stock.

    Rows sharing a name become one product with several images.
    """
    rows = []
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"image", "name"} - set(reader.fieldnames or [])
        if missing:
            raise CatalogSourceError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))}")
        for line, record in enumerate(reader, start=2):
            image = (root / record["image"]).resolve()
            if not image.is_relative_to(root.resolve()):
                raise CatalogSourceError(f"line {line}: image path {record['image']!r} leaves {root}")
            rows.append(
                CatalogRow(
                    image=image,
                    name=record["name"].strip(),
                    category=(record.get("category") or "").strip(),
                    description=(record.get("description") or "").strip(),
                    price=_price(record.get("price") or "", line),
                    in_stock=(record.get("in_stock") or "1").strip().lower() not in {"0", "false", "no"},
                )
            )
    return rows


def rows_from_folder(root: Path) -> list[CatalogRow]:
    """Every image becomes a product named after its file, in a category named after its folder."""
    return [
        CatalogRow(image=path, name=path.stem.replace("_", " ").replace("-", " "), category=path.parent.name)
        for path in sorted(root.rglob("*"))
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]


def is_grocery_store(root: Path) -> bool:
    return (root / "labels.csv").exists() and (root / "iconic-images-and-descriptions").is_dir()


def _demo_price(label: str) -> Decimal:
    # The dataset has no prices; a stable made-up one per product keeps the demo shop plausible.
    return Decimal(99 + zlib.crc32(label.encode()) % 900) / 100


def rows_from_grocery_store(root: Path, *, shop_photos_per_product: int) -> list[CatalogRow]:
    """One product per fine class: its iconic catalogue photo plus the first N shop photos (by file name)."""
    with (root / "labels.csv").open(newline="", encoding="utf-8") as handle:
        records = sorted(csv.DictReader(handle), key=lambda r: (r["split"] != "iconic", r["filename"]))
    rows: list[CatalogRow] = []
    photos_taken: dict[str, int] = {}
    for record in records:
        label = record["label"]
        if record["split"] != "iconic":
            if photos_taken.get(label, 0) >= shop_photos_per_product:
                continue
            photos_taken[label] = photos_taken.get(label, 0) + 1
        image = root / record["filename"]
        descriptions = list(image.parent.glob("*_Description.txt")) if record["split"] == "iconic" else []
        rows.append(
            CatalogRow(
                image=image,
                name=label.replace("-", " "),
                category=record["coarse_label"].replace("-", " "),
                description=descriptions[0].read_text(encoding="utf-8").strip() if descriptions else "",
                price=_demo_price(label),
            )
        )
    return rows


def grocery_store_query_photos(root: Path, *, shop_photos_per_product: int) -> list[tuple[Path, str]]:
    """Shop photos *not* imported by rows_from_grocery_store, with their product names: queries for evaluation."""
    with (root / "labels.csv").open(newline="", encoding="utf-8") as handle:
        records = sorted(
            (r for r in csv.DictReader(handle) if r["split"] == "train"), key=lambda r: r["filename"]
        )
    seen: dict[str, int] = {}
    queries = []
    for record in records:
        seen[record["label"]] = seen.get(record["label"], 0) + 1
        if seen[record["label"]] > shop_photos_per_product:
            queries.append((root / record["filename"], record["label"].replace("-", " ")))
    return queries


def rows_read(root: Path, *, csv_path: Path | None, shop_photos_per_product: int) -> list[CatalogRow]:
    if not root.is_dir():
        raise CatalogSourceError(f"{root} is not a folder")
    if csv_path:
        return rows_from_csv(root, csv_path)
    if is_grocery_store(root):
        return rows_from_grocery_store(root, shop_photos_per_product=shop_photos_per_product)
    return rows_from_folder(root)
