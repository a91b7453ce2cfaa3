"""Which products a list, a similar-items list or a search may return, and the parsing pages and the API
share to build it (the form and the serializers only declare fields)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol


class FilterableProduct(Protocol):
    @property
    def product_id(self) -> int: ...
    @property
    def category_slug(self) -> str: ...
    @property
    def price(self) -> float: ...
    @property
    def in_stock(self) -> bool: ...


@dataclass(frozen=True)
class ProductFilter:
    """None means "any"."""

    category_slug: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None
    exclude_ids: tuple[int, ...] = ()

    @property
    def active(self) -> bool:
        return self != ProductFilter()

    @property
    def has_product_properties(self) -> bool:
        """Category, price or stock set: what the vector index filters by (exclusions are applied after)."""
        return any(v is not None for v in (self.category_slug, self.min_price, self.max_price, self.in_stock))

    def matches(self, product: FilterableProduct) -> bool:
        return (
            (self.category_slug is None or product.category_slug == self.category_slug)
            and (self.min_price is None or product.price >= self.min_price)
            and (self.max_price is None or product.price <= self.max_price)
            and (self.in_stock is None or product.in_stock == self.in_stock)
            and product.product_id not in self.exclude_ids
        )


def _price(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def product_filter_from(cleaned: Mapping[str, Any]) -> ProductFilter:
    """The filter from a form's or serializer's cleaned data: `category` (a slug, or a Category), prices,
    and `in_stock` (None or absent: any)."""
    category = cleaned.get("category") or None
    return ProductFilter(
        category_slug=getattr(category, "slug", category),
        min_price=_price(cleaned.get("min_price")),
        max_price=_price(cleaned.get("max_price")),
        in_stock=cleaned.get("in_stock"),
    )


def id_list_parse(text: str, *, max_items: int, count: int | None = None) -> tuple[int, ...]:
    """Comma-separated whole numbers ("12,40"), as multipart forms and query strings carry id lists;
    ValueError with a message for the user otherwise."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError("Use comma-separated whole numbers, e.g. 12,40.") from None
    if count is not None and len(values) != count:
        raise ValueError(f"Give exactly {count} numbers.")
    if len(values) > max_items:
        raise ValueError(f"Give at most {max_items} numbers.")
    return values
