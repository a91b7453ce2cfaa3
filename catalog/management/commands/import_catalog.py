import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.importers import CatalogSourceError, rows_read
from catalog.models import ProductImage, SyncStatus
from catalog.services import catalog_rows_import
from search.indexing import images_sync
from search.progress import interruptible, progress_bar
from search.tasks import images_sync_enqueue, images_sync_enqueue_many, sync_deferred, tasks_run_in_process

# Rows per transaction. A chunk's syncs are queued as it commits, so workers wait for at most one chunk
# (~0.1-0.3 s at a few hundred rows/s); a chunk with a bad row is redone row by row.
ROWS_PER_CHUNK = 100


class Command(BaseCommand):
    help = (
        "Import a folder of product images: with --csv (columns image,name,category[,description,price,in_stock]), "
        "as the Grocery Store dataset (detected by its labels.csv), or one product per image file. "
        "Safe to interrupt and run again: imported images are skipped, unsynced ones are synced."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--csv", type=Path, default=None)
        parser.add_argument(
            "--shop-photos",
            type=int,
            default=3,
            help="Grocery Store dataset: shop photos per product besides the catalogue photo.",
        )

    def handle(self, *args, path: Path, csv: Path | None, shop_photos: int, **options):
        try:
            rows = rows_read(path, csv_path=csv, shop_photos_per_product=shop_photos)
        except (CatalogSourceError, OSError) as exc:
            raise CommandError(str(exc)) from exc

        added, problems = 0, []
        # Each chunk of rows commits on its own and imported images are skipped, so an interrupted import
        # resumes. With the queue, a chunk's syncs are queued in the same transaction (one INSERT, not the
        # signals' one per image), so workers start while the import runs; in-process, syncing waits for the
        # end and goes in batches.
        queue = not tasks_run_in_process()
        with (
            interruptible(),
            sync_deferred(),
            progress_bar(total=len(rows), description="Importing") as update,
        ):
            for start in range(0, len(rows), ROWS_PER_CHUNK):
                chunk = rows[start : start + ROWS_PER_CHUNK]
                imported = catalog_rows_import(
                    rows=chunk, on_added=images_sync_enqueue_many if queue else None
                )
                added += len(imported.added)
                problems += imported.problems
                update(len(chunk))

        pending = list(
            ProductImage.objects.exclude(sync_status=SyncStatus.SYNCED).values_list("pk", flat=True)
        )
        if queue:
            queued = images_sync_enqueue(pending)  # those an interrupted earlier run left unqueued
            self.stdout.write(
                f"Imported {added} new images from {len(rows)} rows ({len(rows) - added - len(problems)} already "
                f"there). {len(pending)} images wait for `manage.py sync_worker` to embed and sync them"
                f"{f' ({queued} queued again from an earlier run)' if queued else ''}."
            )
            for problem in problems:
                self.stdout.write(f"  skipped {problem}")
            return
        started = time.perf_counter()
        with interruptible(), progress_bar(total=len(pending), description="Embedding and syncing") as update:
            report = images_sync(pending, progress=update)
        elapsed_s = time.perf_counter() - started

        self.stdout.write(
            f"Imported {added} new images from {len(rows)} rows ({len(rows) - added - len(problems)} already there). "
            f"Synced {report.synced} images in {elapsed_s:.1f}s"
            f"{f' ({report.synced / elapsed_s:.1f} images/s)' if report.synced and elapsed_s else ''}; "
            f"{len(report.failed)} failed; {report.pending} pending."
        )
        for problem in problems + [f"image {i}: {e}" for i, e in report.failed.items()]:
            self.stdout.write(f"  skipped {problem}")
        if report.graph_error:
            self.stdout.write(
                self.style.WARNING(
                    f"Neo4j unavailable ({report.graph_error}); run `manage.py sync_graph` once it is up."
                )
            )
