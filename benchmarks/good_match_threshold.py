"""The "good match" threshold of the insights views, measured on the demo data.

    .venv/bin/python -m benchmarks.good_match_threshold [--dataset DIR] [--queries 600]

The demo catalog (Grocery Store: iconic photo + 3 shop photos per product, as `import_catalog` builds it) and
held-out shop photos are embedded with the served backbone (EfficientNet-Lite0), exactly as searches embed
them; scores are the pipeline's (cosine of the best stored image per product, exact). Each query is scored
twice: with its product in the catalog ("we sell it": top score of the whole catalog) and with its product
left out ("we don't": top score of the other products), which is what a shopper with a photo of something
the shop does not sell sees. The threshold is the top score that best separates the two (Youden's J:
largest true-positive rate minus false-positive rate). Measured twice, because the served version sets the
score scale (search/versions.py): the raw backbone's cosines, and those of a catalog projection fitted the
way `fit_projection` does (the whitening and the trained head; `--no-head`: the whitening alone) on the
catalog, refitted without the left-out product for its "not sold" case. Prints Markdown tables.
"""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np

from benchmarks._setup import SHOP_PHOTOS_PER_PRODUCT, arguments_with_dataset, django_temp

django_temp("good-match")

from django.conf import settings  # noqa: E402

from catalog.importers import grocery_store_query_photos, rows_from_grocery_store  # noqa: E402
from search.embeddings import embedder_get, image_decode  # noqa: E402
from search.head import head_train  # noqa: E402
from search.projection import project, projection_fit  # noqa: E402


def embed_paths(paths: list) -> np.ndarray:
    embedder = embedder_get(settings.LOOKALIKE_BACKBONE)
    images = (image_decode(path.open("rb"), max_pixels=settings.LOOKALIKE_MAX_IMAGE_PIXELS) for path in paths)
    return np.stack(list(embedder.embed_many(images)))


def best_per_product(scores: np.ndarray, owners: list[str]) -> dict[str, float]:
    best: dict[str, float] = defaultdict(lambda: -2.0)
    for owner, score in zip(owners, scores.tolist(), strict=True):
        best[owner] = max(best[owner], score)
    return best


def youden(sold: np.ndarray, unsold: np.ndarray) -> tuple[float, float, float]:
    candidates = np.unique(np.concatenate([sold, unsold]))
    best = max(candidates, key=lambda t: float(np.mean(sold >= t) - np.mean(unsold >= t)))
    return float(best), float(np.mean(sold >= best)), float(np.mean(unsold >= best))


def threshold_table(name: str, sold: np.ndarray, unsold: np.ndarray) -> None:
    threshold, tpr, fpr = youden(sold, unsold)
    print(f"\n**{name}**\n")
    print("| case | top score p10 / p50 / p90 |")
    print("|---|---|")
    for case, values in (("product sold", sold), ("product not sold (left out)", unsold)):
        p10, p50, p90 = np.percentile(values, [10, 50, 90])
        print(f"| {case} | {p10:.3f} / {p50:.3f} / {p90:.3f} |")
    print(
        f"\nthreshold (Youden's J) = **{threshold:.3f}**: {tpr:.1%} of sold-product searches at or above it, "
        f"{fpr:.1%} of not-sold searches"
    )
    grid = np.round(np.linspace(threshold - 0.15, threshold + 0.15, 7), 2)
    for t in grid:
        print(f"  at {t:.2f}: sold {np.mean(sold >= t):.1%}, not sold {np.mean(unsold >= t):.1%}")


def top_scores(
    catalog: np.ndarray, owners: list[str], queries: list, vectors: np.ndarray, projection_for
) -> tuple[np.ndarray, np.ndarray, float]:
    """Top score with the query's product sold and left out. `projection_for(product or None)` is the fit
    the shop would serve without that product (None: the full catalog's); the identity returns None."""
    full = projection_for(None)
    catalog_full = project(catalog, full)
    sold, unsold, right_first = [], [], 0
    for (_, product), vector in zip(queries, vectors, strict=True):
        best = best_per_product(catalog_full @ project(vector[None], full)[0], owners)
        top = max(best, key=best.get)
        right_first += top == product
        sold.append(best[top])
        keep = [i for i, owner in enumerate(owners) if owner != product]
        without = projection_for(product)
        scores = project(catalog[keep], without) @ project(vector[None], without)[0]
        unsold.append(max(best_per_product(scores, [owners[i] for i in keep]).values()))
    return np.array(sold), np.array(unsold), right_first / len(queries)


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--queries", type=int, default=600, help="held-out shop photos, sampled with seed 0")
    parser.add_argument("--no-head", action="store_true", help="the fit is the whitening alone")
    args = parser.parse_args()
    rows = rows_from_grocery_store(args.dataset, shop_photos_per_product=SHOP_PHOTOS_PER_PRODUCT)
    queries = grocery_store_query_photos(args.dataset, shop_photos_per_product=SHOP_PHOTOS_PER_PRODUCT)
    queries = random.Random(0).sample(queries, min(args.queries, len(queries)))
    catalog = embed_paths([r.image for r in rows])
    owners = [r.name for r in rows]
    vectors = embed_paths([path for path, _ in queries])
    print(f"{len(rows)} catalog images of {len(set(owners))} products; {len(queries)} held-out shop photos")

    fits: dict[str | None, object] = {}

    def projection_for(left_out: str | None):  # type: ignore[no-untyped-def]
        # The served default fit (the whitening and the trained head, as search/fitting.py fits it; --no-head:
        # the whitening alone), on the catalog the shop would have.
        if left_out not in fits:
            keep = [i for i, owner in enumerate(owners) if owner != left_out]
            labels = [owners[i] for i in keep]
            fit = projection_fit(catalog[keep], products=labels, categories=labels)
            if fit is not None and fit.grouping == "product" and not args.no_head:
                fit = head_train(catalog[keep], np.array(labels), base=fit)
            fits[left_out] = fit
        return fits[left_out]

    for name, chooser in (
        ("raw backbone (a plain version, e.g. efficientnet_lite0)", lambda _: None),
        (
            "catalog projection (a fitted version, e.g. efficientnet_lite0__p3; refitted without each left-out product)",
            projection_for,
        ),
    ):
        sold, unsold, first = top_scores(catalog, owners, queries, vectors, chooser)
        threshold_table(f"{name}: right product first {first:.3f}", sold, unsold)


if __name__ == "__main__":
    main()
