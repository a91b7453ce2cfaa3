"""Catalog reads for pages, API and the graph projection."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from catalog.models import Product, ProductImage


def product_list(
    *,
    category_slug: str | None = None,
    query: str | None = None,
    min_price: float | None = None,
    max_price: float | None = None,
    in_stock: bool | None = None,
) -> QuerySet[Product]:
    products = Product.objects.select_related("category").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    )
    if "\x00" in (category_slug or "") + (query or ""):
        # No name or slug holds a NUL (forms and the API refuse it), and PostgreSQL refuses one in a query
        # (a 500 from the catalog page's ?q=): nothing matches.
        return products.none()
    if category_slug:
        products = products.filter(category__slug=category_slug)
    if query:
        products = products.filter(name__icontains=query)
    if min_price is not None:
        products = products.filter(price__gte=min_price)
    if max_price is not None:
        products = products.filter(price__lte=max_price)
    if in_stock is not None:
        products = products.filter(in_stock=in_stock)
    return products


def products_by_ids_in_order(product_ids: list[int]) -> list[Product]:
    """Products for ids from the graph, in the graph's order; ids whose rows are gone are dropped."""
    by_id = product_list().in_bulk(product_ids)
    return [by_id[pk] for pk in product_ids if pk in by_id]
