from django.core.management.base import BaseCommand, CommandError

from search.backbones import BackboneUnavailable
from search.graph import GraphUnavailable
from search.progress import interruptible, progress_bar
from search.reembed import backbone_reembed


def _bar(total: int, description: str, unit: str):
    return progress_bar(total=total, description=description, unit=unit)


class Command(BaseCommand):
    help = (
        "Embed every image with the configured backbone (LOOKALIKE_BACKBONE) beside the served one, rebuild "
        "similar items, then switch searches over and drop the old vectors. Safe to interrupt and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Re-embed images already embedded with this backbone."
        )

    def handle(self, *args, **options):
        try:
            with interruptible():
                report = backbone_reembed(everything=options["all"], progress=_bar)
        except (GraphUnavailable, BackboneUnavailable) as exc:
            raise CommandError(f"{exc}. Nothing was switched; run reembed again when fixed.") from exc
        for image_id, error in sorted(report.failed.items()):
            self.stdout.write(f"  image {image_id} failed: {error}")
        if report.graph_error:
            raise CommandError(
                f"Graph became unavailable: {report.graph_error}. Still serving {report.previous_model}; "
                "run reembed again to resume."
            )
        switched = f"switched from {report.previous_model} to" if report.switched else "serving"
        self.stdout.write(
            f"Embedded {report.embedded} images ({len(report.failed)} failed), linked {report.products_linked} "
            f"products; {switched} {report.model}."
        )
