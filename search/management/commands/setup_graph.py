from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search.backbones import backbone_get
from search.graph import GraphUnavailable, graph_store


class Command(BaseCommand):
    help = (
        "Install graph constraints and the vector index for the configured backbone, and wait until online."
    )

    def handle(self, *args, **options):
        dimensions = backbone_get(settings.LOOKALIKE_BACKBONE).dimensions
        try:
            graph_store().ensure_schema(model=settings.LOOKALIKE_BACKBONE, dimensions=dimensions)
            stats = graph_store().stats()
        except GraphUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Graph ready: serving {stats.serving_model} (vector index {stats.vector_index}); "
            f"{stats.products} products, {stats.images} images"
        )
        if stats.serving_model != settings.LOOKALIKE_BACKBONE:
            self.stdout.write(
                f"The configured backbone is {settings.LOOKALIKE_BACKBONE}: run `manage.py reembed` to switch."
            )
