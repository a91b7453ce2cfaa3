from django.urls import path
from rest_framework.routers import DefaultRouter

from search.api import views

router = DefaultRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("categories", views.CategoryViewSet, basename="category")

app_name = "api"
urlpatterns = [
    path("search/", views.PhotoSearchView.as_view(), name="search"),
    *router.urls,
]
