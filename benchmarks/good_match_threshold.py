"""The "good match" threshold of the insights views, measured on the demo data.

    .venv/bin/python -m benchmarks.good_match_threshold [--dataset DIR] [--queries 600]

The demo catalog (Grocery Store: iconic photo + 3 shop photos per product, as `import_catalog` builds it) and
held-out shop photos are embedded with the served backbone (EfficientNet-Lite0), exactly as searches embed
them; scores are the pipeline's (cosine of the best stored image per product, exact). Each query is scored
twice: with its product in the catalog ("we sell it": top score of the whole catalog) and with its product
left out ("we don't": top score of the other products), which is what a shopper with a photo of something
the shop does not sell sees. The threshold is the top score that best separates the two (Youden's J:
largest true-positive rate minus false-positive rate). Prints a Markdown table.
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


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--queries", type=int, default=600, help="held-out shop photos, sampled with seed 0")
    args = parser.parse_args()
    rows = rows_from_grocery_store(args.dataset, shop_photos_per_product=SHOP_PHOTOS_PER_PRODUCT)
    queries = grocery_store_query_photos(args.dataset, shop_photos_per_product=SHOP_PHOTOS_PER_PRODUCT)
    queries = random.Random(0).sample(queries, min(args.queries, len(queries)))
    catalog = embed_paths([r.image for r in rows])
    owners = [r.name for r in rows]
    vectors = embed_paths([path for path, _ in queries])

    sold, unsold, right_first = [], [], 0
    for (_, product), vector in zip(queries, vectors, strict=True):
        best = best_per_product(catalog @ vector, owners)
        top = max(best, key=best.get)
        right_first += top == product
        sold.append(best[top])
        unsold.append(max(score for name, score in best.items() if name != product))
    sold_a, unsold_a = np.array(sold), np.array(unsold)
    threshold, tpr, fpr = youden(sold_a, unsold_a)
    print(f"{len(rows)} catalog images of {len(set(owners))} products; {len(queries)} held-out shop photos")
    print(f"right product first (sold): {right_first / len(queries):.3f}\n")
    print("| case | top score p10 / p50 / p90 |")
    print("|---|---|")
    for name, values in (("product sold", sold_a), ("product not sold (left out)", unsold_a)):
        p10, p50, p90 = np.percentile(values, [10, 50, 90])
        print(f"| {name} | {p10:.3f} / {p50:.3f} / {p90:.3f} |")
    print(
        f"\nthreshold (Youden's J) = **{threshold:.3f}**: {tpr:.1%} of sold-product searches at or above it, "
        f"{fpr:.1%} of not-sold searches"
    )
    for t in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75):
        print(f"  at {t:.2f}: sold {np.mean(sold_a >= t):.1%}, not sold {np.mean(unsold_a >= t):.1%}")


if __name__ == "__main__":
    main()
