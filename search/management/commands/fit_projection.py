from argparse import BooleanOptionalAction

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search.fitting import DEFAULT_HEAD, FitRefused, projection_off, projection_refit
from search.graph import GraphUnavailable
from search.progress import interruptible, progress_bar
from search.projection import DEFAULT_DIMENSIONS, DEFAULT_SHRINKAGE


def _bar(total: int, description: str, unit: str):
    return progress_bar(total=total, description=description, unit=unit)


class Command(BaseCommand):
    help = (
        "Fit the catalog projection on the stored raw embeddings (no CNN run unless --views), build its vectors, index and "
        "similar items beside the served version, then switch searches over in one write and drop the old."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--off", action="store_true", help="Serve the raw backbone vectors again (no projection)."
        )
        parser.add_argument("--shrinkage", type=float, default=DEFAULT_SHRINKAGE)
        parser.add_argument(
            "--dimensions",
            type=int,
            default=DEFAULT_DIMENSIONS or 0,
            help="LDA directions kept (0: whitening only)",
        )
        parser.add_argument(
            "--views",
            type=int,
            default=0,
            help="Augmented views per image embedded by the CNN now and fitted on too (costs a CNN pass each).",
        )
        parser.add_argument(
            "--head",
            action=BooleanOptionalAction,
            default=None,
            help="Train a linear head on top of the whitening (metric learning); the default unless --dimensions.",
        )

    def handle(self, *args, **options):
        if not 0 < options["shrinkage"] <= 1:
            raise CommandError("--shrinkage must be in (0, 1].")
        if options["views"] < 0:
            raise CommandError("--views must be 0 or more.")
        if options["head"] and options["dimensions"]:
            raise CommandError("--head trains on the whitening's full dimensions: leave out --dimensions.")
        head = DEFAULT_HEAD and not options["dimensions"] if options["head"] is None else options["head"]
        try:
            with interruptible():
                if options["off"]:
                    report = projection_off(progress=_bar)
                else:
                    report = projection_refit(
                        progress=_bar,
                        shrinkage=options["shrinkage"],
                        dimensions=options["dimensions"] or None,
                        views=options["views"],
                        head=head,
                    )
        except FitRefused as exc:
            raise CommandError(str(exc)) from exc
        except GraphUnavailable as exc:
            raise CommandError(f"{exc}. Nothing was switched; run fit_projection again when fixed.") from exc
        fit = report.fit
        if fit is None:
            self.stdout.write(
                f"Projected {report.images} images, linked {report.products_linked} products; "
                f"switched from {report.previous_version} to {settings.LOOKALIKE_BACKBONE} (no projection)."
            )
            return
        self.stdout.write(
            f"Fitted {fit.version} ({fit.grouping} groups: {fit.groups}, {fit.dimensions}d"
            f"{f', {fit.views} augmented views per image in {fit.views_seconds:.1f} s' if fit.views else ''}"
            f"{f', head trained {fit.head_epochs} epochs' if fit.head_epochs else ''}) on {fit.products} "
            f"products, {fit.images} images in {fit.fit_seconds:.1f} s; projected {report.images} images, linked "
            f"{report.products_linked} products; switched from {report.previous_version} to {fit.version}."
        )
