from django.core.management.base import BaseCommand, CommandError

from catalog.models import ProductImage
from search.embeddings import embedder_active
from search.graph import GraphUnavailable
from search.progress import interruptible, progress_bar
from search.similar_edges import similar_rebuild_all


class Command(BaseCommand):
    help = "Recompute every product's SIMILAR_TO edges from the vector index (k index queries per image)."

    def handle(self, *args, **options):
        model = embedder_active().name
        product_ids = sorted(
            set(
                ProductImage.objects.filter(embedding_model=model, sync_status="synced").values_list(
                    "product_id", flat=True
                )
            )
        )
        try:
            # Each product rewrites only its own list, so an interrupted rebuild is safe to run again.
            with (
                interruptible(),
                progress_bar(total=len(product_ids), description="Similar items", unit="product") as update,
            ):
                count = similar_rebuild_all(product_ids=product_ids, model=model, progress=update)
        except GraphUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Rebuilt similar items for {count} products.")
