from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.product_list_view, name="product-list"),
    path("products/<slug:slug>/", views.product_detail_view, name="product-detail"),
]
