from django.core.management.base import BaseCommand, CommandError

from catalog.models import ProductImage, SyncStatus
from search.graph import GraphUnavailable
from search.progress import interruptible, progress_bar
from search.serving import serving_model
from search.similar_edges import similar_rebuild_stored
from search.versions import version_backbone


class Command(BaseCommand):
    help = (
        "Recompute every product's SIMILAR_TO edges in the served version: exactly from the stored vectors "
        "(up to 20k images), else from the vector index."
    )

    def handle(self, *args, **options):
        try:
            model = serving_model()  # a projection fit's version when one is served, not the raw backbone
            rows = list(
                ProductImage.objects.filter(
                    embedding_model=version_backbone(model), sync_status=SyncStatus.SYNCED
                ).values_list("product_id", "embedding")
            )
            # Each product rewrites only its own list, so an interrupted rebuild is safe to run again.
            with (
                interruptible(),
                progress_bar(
                    total=len({product for product, _ in rows}), description="Similar items", unit="product"
                ) as update,
            ):
                count = similar_rebuild_stored(rows=rows, model=model, progress=update)
        except GraphUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Rebuilt similar items for {count} products in {model}.")
