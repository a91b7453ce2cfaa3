from django.urls import path

from insights import views

app_name = "insights"
urlpatterns = [
    path(
        "open/<int:event_id>/<int:rank>/<int:product_id>/",
        views.result_open_view,
        name="result-open",
    ),
]
