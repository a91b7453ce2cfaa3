from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from search import signals
        from search.graph import graph_store

        signals.connect()
        # Builds the store (and its driver) from Django settings; no connection is made until the first query.
        graph_store()
