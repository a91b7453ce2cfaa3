"""Time to fit and switch the catalog projection on a large catalog, from stored raw embeddings (no CNN).

    LOOKALIKE_NEO4J_INSTANCE=bench .venv/bin/python -m benchmarks.projection_fit_time [--images 10000]
        [--views 1] [--head] [--fit-only]

The catalog is made from the cached embeddings of the grocery photos (benchmarks/embedding_cache.py),
copied until it holds `--images` images: copy 0 is the photos as they are, copy c ≥ 1 makes new products
("<label> #c", same category) whose vectors are the photos' vectors plus Gaussian noise (sigma 0.005 per
dimension, cosine ≈ 0.98 to the original), renormalised, so products keep their within-product spread
and stay distinct. The identity version is written first as indexing would (its SIMILAR_TO exactly in
NumPy, as a fit writes it: one index query per image takes longer here than the target; not timed), then
`projection_refit` is timed (the app's default fit, a trained head on the whitening; `--no-head` the whitening
alone; `--views N` adds augmented views, embedded by the CNN unless cached): fit, re-project every image into the
new version, build its vector index, SIMILAR_TO for every product, the switch, and dropping the old version
(after the switch grace).

`--fit-only`: only `projection_fit_create` (no graph build), the whitening and then with the asked --views
(augmented views embedded by the CNN from the photo files) and --head (search/head.py), each with its CNN and
threshold calibration (search/calibration.py) seconds; and the query-side cost, projecting one query vector
(median of 2,000).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch

from benchmarks._setup import arguments_with_dataset, database_migrate, django_temp

django_temp("projection-fit-time")

from django.conf import settings  # noqa: E402

from benchmarks.catalog_from_cache import CachedImage, catalog_load, identity_serve  # noqa: E402
from benchmarks.embedding_cache import embeddings_cache  # noqa: E402
from search import fitting  # noqa: E402
from search.progress import progress_bar  # noqa: E402
from search.projection import project  # noqa: E402
from search.serving import SWITCH_GRACE_S  # noqa: E402

NOISE_SIGMA = 0.005


def images_copied(cache: str, count: int, *, seed: int = 0) -> list[CachedImage]:
    data = np.load(cache)
    rng = np.random.default_rng(seed)
    images: list[CachedImage] = []
    copy = 0
    while len(images) < count:
        vectors = data["plain"]
        if copy:
            vectors = vectors + rng.normal(0.0, NOISE_SIGMA, size=vectors.shape).astype(np.float32)
            vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        for label, coarse, filename, vector in zip(
            data["label"], data["coarse"], data["filename"], vectors, strict=True
        ):
            product = str(label) if copy == 0 else f"{label} #{copy}"
            images.append(CachedImage(product, str(coarse), str(filename), vector))
            if len(images) == count:
                break
        copy += 1
    return images


@contextmanager
def timed_stages(stages: dict[str, float]) -> Iterator[Callable]:  # type: ignore[type-arg]
    """A progress factory that records each stage's wall time."""

    @contextmanager
    def factory(total: int, description: str, unit: str) -> Iterator[Callable[[int], None]]:
        started = time.perf_counter()
        with progress_bar(total=total, description=description, unit=unit) as update:
            yield update
        stages[description] = time.perf_counter() - started

    yield factory


def fit_only(images: int, products: int, *, views: int, head: bool) -> None:
    print(f"\n{images} images, {products} products, torch threads {torch.get_num_threads()}\n")
    print(
        "| fit | fit s | of which CNN over views s | of which calibration s | query projection µs (median) |\n"
        "|---|---|---|---|---|"
    )
    for label, options in (
        ("whitening", {"head": False}),
        (f"views {views}, head {head}", {"views": views, "head": head}),
    ):
        fit = fitting.projection_fit_create(progress=timed_stages_none, **options)  # type: ignore[arg-type]
        projection = fitting.projection_load(fit_id=fit.pk)
        query = (
            np.random.default_rng(0).normal(size=projection.matrix.shape[0]).astype(np.float32)
            if projection
            else None
        )
        timings = []
        for _ in range(2_000):
            started = time.perf_counter()
            project(query, projection)
            timings.append(time.perf_counter() - started)
        print(
            f"| {label} (head epochs {fit.head_epochs}) | {fit.fit_seconds:.1f} | {fit.views_seconds:.1f} | "
            f"{fit.calibration_seconds:.1f} | {1e6 * np.median(timings):.0f} |",
            flush=True,
        )


@contextmanager
def timed_stages_none(total: int, description: str, unit: str) -> Iterator[Callable[[int], None]]:
    with progress_bar(total=total, description=description, unit=unit) as update:
        yield update


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--fit-only", action="store_true")
    parser.add_argument("--views", type=int, default=0)
    parser.add_argument("--head", action=argparse.BooleanOptionalAction, default=fitting.DEFAULT_HEAD)
    args = parser.parse_args()
    database_migrate()
    cache = embeddings_cache(args.dataset, settings.LOOKALIKE_BACKBONE)
    images = images_copied(str(cache), args.images)
    catalog_load(images, args.dataset)
    products = len({image.product for image in images})
    if args.fit_only:
        fit_only(len(images), products, views=args.views, head=args.head)
        return
    started = time.perf_counter()
    identity_serve(exact_similar=True)
    identity_s = time.perf_counter() - started
    stages: dict[str, float] = {}
    switched_at: list[float] = []
    switch = fitting.graph_store().__class__.serving_switch

    def serving_switch_timed(self, model: str) -> None:  # type: ignore[no-untyped-def]
        switch(self, model)
        switched_at.append(time.perf_counter())

    fitting.graph_store().__class__.serving_switch = serving_switch_timed  # type: ignore[method-assign]
    with timed_stages(stages) as factory:
        started = time.perf_counter()
        report = fitting.projection_refit(progress=factory, views=args.views, head=args.head)
        total_s = time.perf_counter() - started
    fit = report.fit
    assert fit is not None
    print(f"\n{len(images)} images, {products} products; identity version written in {identity_s:.1f} s\n")
    print("| stage | seconds |\n|---|---|")
    print(f"| fit (stored vectors → projection, NumPy) | {fit.fit_seconds:.1f} |")
    for stage, seconds in stages.items():
        print(f"| {stage} | {seconds:.1f} |")
    print(f"| **fit → switch** | **{switched_at[0] - started:.1f}** |")
    print(
        f"| switch → old version dropped (incl. {SWITCH_GRACE_S:.0f} s grace) | {total_s - (switched_at[0] - started):.1f} |"
    )
    print(f"| total | {total_s:.1f} |")
    print(
        f"\nfit {fit.version}: grouping {fit.grouping}, {fit.dimensions} dims, {fit.groups} groups, "
        f"head epochs {fit.head_epochs}, views {fit.views} ({fit.views_seconds:.1f} s CNN), "
        f"torch threads {torch.get_num_threads()}"
    )


if __name__ == "__main__":
    main()
