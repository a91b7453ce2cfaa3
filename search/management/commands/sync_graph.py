from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Product, ProductImage, SyncStatus
from search.backbones import backbone_get
from search.graph import GraphUnavailable, graph_store
from search.indexing import images_sync, orphans_remove, product_record
from search.progress import interruptible, progress_bar


class Command(BaseCommand):
    help = "Project the catalog into Neo4j: pending and failed images, product properties, and orphans."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Re-project every image, not only pending/failed."
        )

    def handle(self, *args, **options):
        store = graph_store()
        try:
            backbone = backbone_get(settings.LOOKALIKE_BACKBONE)
            store.ensure_schema(model=backbone.name, dimensions=backbone.dimensions)
            products = Product.objects.select_related("category").filter(images__isnull=False).distinct()
            store.upsert_products([product_record(p) for p in products])
            removed_products, removed_images = orphans_remove()
        except GraphUnavailable as exc:
            raise CommandError(f"{exc}. Start Neo4j (make neo4j-start) and run sync_graph again.") from exc

        images = ProductImage.objects.all()
        if not options["all"]:
            images = images.exclude(sync_status=SyncStatus.SYNCED)
        ids = list(images.order_by("pk").values_list("pk", flat=True))
        with interruptible(), progress_bar(total=len(ids), description="Syncing images") as update:
            report = images_sync(ids, progress=update)

        self.stdout.write(
            f"Synced {report.synced} images; {len(report.failed)} failed; {report.pending} still pending; "
            f"removed {removed_products} orphan products and {removed_images} orphan images."
        )
        paths = dict(ProductImage.objects.filter(pk__in=report.failed).values_list("pk", "image"))
        for image_id, error in sorted(report.failed.items()):
            self.stdout.write(f"  image {image_id} ({paths.get(image_id, 'deleted')}) failed: {error}")
        if report.graph_error:
            raise CommandError(f"Graph became unavailable: {report.graph_error}")
