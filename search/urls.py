from django.urls import path

from search import views

app_name = "search"
urlpatterns = [
    path("search/", views.photo_search_view, name="photo-search"),
]
