from django.core.management.base import BaseCommand, CommandError

from search.consistency import Drift, graph_drift_find, graph_drift_fix, serving_mismatch
from search.graph import GraphUnavailable
from search.progress import progress_bar
from search.versions import version_checked


class Command(BaseCommand):
    help = (
        "Compare the catalog with the Neo4j graph: missing, orphaned and stale products (properties such as "
        "name, category or price that differ, on the product or its image nodes), missing, orphaned, "
        "misplaced, stale-model and wrong-dimension images, and dangling SIMILAR_TO edges. --fix repairs "
        "them. Exits non-zero while drift remains."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix", action="store_true", help="Re-sync, delete orphans and drop dangling edges."
        )

    def handle(self, *args, fix: bool, **options):
        try:
            backbone = version_checked()
            drift = graph_drift_find(backbone=backbone)
            self._report("Found", drift)
            if fix and drift.total:
                work = len(drift.images_to_resync()) + len({e.source_id for e in drift.dangling_edges})
                with progress_bar(total=work, description="Repairing", unit="item") as update:
                    graph_drift_fix(drift=drift, backbone=backbone, progress=update)
                drift = graph_drift_find(backbone=backbone)
                self._report("After --fix", drift)
            mismatch = serving_mismatch(backbone=backbone)
        except GraphUnavailable as exc:
            raise CommandError(f"{exc}. Start Neo4j and run check_graph again.") from exc
        if mismatch:
            self.stdout.write(mismatch)
        if drift.total:
            raise CommandError(
                f"The graph has drifted from the catalog: {drift.total} problems"
                f"{'' if fix else '; run check_graph --fix'}."
            )
        self.stdout.write(self.style.SUCCESS("The graph matches the catalog."))

    def _report(self, heading: str, drift: Drift) -> None:
        self.stdout.write(f"{heading}:")
        for name, count in drift.counts().items():
            self.stdout.write(f"  {name.replace('_', ' '):24} {count}")
