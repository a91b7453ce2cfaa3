"""The one API router: every endpoint of every version is registered here (like cookiecutter-django's).

v2 answers every list (products, similar items, search) in one shape, paged by limit/offset
(core.api.pagination). v1 keeps its older shapes for one release (catalog.api.v1, search.api.v1).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import DefaultRouter

from catalog.api.v1 import ProductViewSetV1
from catalog.api.views import CategoryViewSet, ProductViewSet
from insights.api.views import ClickView
from search.api.v1 import PhotoSearchV1View, ProductSimilarV1View
from search.api.views import PhotoSearchView, ProductSimilarView

router_v2 = DefaultRouter()
router_v2.register("products", ProductViewSet, basename="product")
router_v2.register("categories", CategoryViewSet, basename="category")

v2_urlpatterns: list[URLPattern | URLResolver] = [
    path("search/", PhotoSearchView.as_view(), name="search"),
    path("products/<int:pk>/similar/", ProductSimilarView.as_view(), name="product-similar"),
    path("clicks/", ClickView.as_view(), name="clicks"),
    *router_v2.urls,
]

router_v1 = DefaultRouter()
router_v1.register("products", ProductViewSetV1, basename="product")
router_v1.register("categories", CategoryViewSet, basename="category")

v1_urlpatterns: list[URLPattern | URLResolver] = [
    path("search/", PhotoSearchV1View.as_view(), name="search"),
    path("products/<int:pk>/similar/", ProductSimilarV1View.as_view(), name="product-similar"),
    path("clicks/", ClickView.as_view(), name="clicks"),
    *router_v1.urls,
]
