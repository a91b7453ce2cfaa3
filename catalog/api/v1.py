"""API v1's product list shape (page numbers), kept one release behind v2's limit/offset; remove with v1."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination

from catalog.api.views import ProductViewSet


class ProductPageNumberPagination(PageNumberPagination):
    page_size = 24


class ProductViewSetV1(ProductViewSet):
    pagination_class = ProductPageNumberPagination
