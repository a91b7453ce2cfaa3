"""Retrieval quality on real photos through the real pipeline, against exact NumPy over the same vectors;
the catalog projection (search/projection.py) against the identity on held-out splits.

    LOOKALIKE_NEO4J_INSTANCE=bench .venv/bin/python -m benchmarks.retrieval_quality [--dataset DIR] [--step 1]

First, in NumPy on cached embeddings (benchmarks/embedding_cache.py; the CNN runs once per dataset): the
identity and the projection with its defaults on every split of benchmarks/retrieval_splits.py (queries
never in the catalog nor in the fit), plain and flip-averaged. Then through the real pipeline:

For each backbone: the demo catalog (Grocery Store: iconic photo + 3 shop photos per product) is imported
with `import_catalog` into a temporary SQLite database and the bench Neo4j (cleared). Every held-out shop
photo is a query, uploaded through `search_by_image` (k=10). The same query vector then ranks the catalog
exactly in NumPy (best stored image per product, cosine). Prints Markdown tables: metrics overall for both,
with their absolute difference, and per coarse class.

then `fit_projection` is run and the same queries go through the projected version, and the similar-items
strip (SIMILAR_TO, 8 per product) is scored against NumPy's strip over the same vectors.

Metrics (products are named after the fine label; the category is the coarse class):
  fine P@1      the top product is the query's product
  fine hit@5    the query's product is in the top 5 (fine P@5 = hit@5 / 5: one product per label)
  fine R@10     the query's product is in the top 10
  coarse P@1    the top product is of the query's coarse class
  coarse P@5    share of the top 5 products of the query's coarse class
  coarse R@10   share of the coarse class's catalog products found in the top 10
  strip         share of each product's similar items (8) in its coarse class
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks._setup import (
    SHOP_PHOTOS_PER_PRODUCT,
    arguments_with_dataset,
    database_migrate,
    demo_import,
    django_temp,
)

django_temp("retrieval-quality")

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test import override_settings  # noqa: E402

from benchmarks.embedding_cache import embeddings_cache  # noqa: E402
from benchmarks.retrieval_splits import Photos, averaged  # noqa: E402
from catalog.importers import grocery_store_query_photos  # noqa: E402
from catalog.models import Product, ProductImage  # noqa: E402
from search.embeddings import BACKBONES, BackboneUnavailable, embedder_get, image_decode, vector_from_bytes  # noqa: E402
from search.fitting import projection_refit  # noqa: E402
from search.progress import progress_bar  # noqa: E402
from search.projection import projection_fit  # noqa: E402
from search.serving import serving_forget, serving_model  # noqa: E402
from search.similarity import product_similar_list, query_vector_compose, search_by_image  # noqa: E402
from search.versions import vectors_project  # noqa: E402

K = 10
METRICS = ("fine P@1", "fine hit@5", "fine P@5", "fine R@10", "coarse P@1", "coarse P@5", "coarse R@10")


def catalog_exact(backbone: str, version: str) -> tuple[np.ndarray, np.ndarray]:
    """Every stored embedding of the backbone in the version's space, and its product id."""
    rows = list(
        ProductImage.objects.filter(embedding_model=backbone)
        .exclude(embedding=None)
        .values_list("product_id", "embedding")
    )
    raw = np.stack([vector_from_bytes(bytes(e)) for _, e in rows])
    return np.array([p for p, _ in rows]), vectors_project(raw, version=version)


def strip_quality(
    image_products: np.ndarray, matrix: np.ndarray, category: dict[int, int]
) -> tuple[float, float]:
    """Share of each product's 8 similar items in its coarse class: from SIMILAR_TO, and from NumPy's best
    image pairs over the same vectors."""
    pipeline, exact = [], []
    for product_id in sorted(category):
        mine = matrix[image_products == product_id]
        best: dict[int, float] = {}
        for other, score in zip(image_products.tolist(), (mine @ matrix.T).max(axis=0).tolist(), strict=True):
            if other != product_id:
                best[other] = max(best.get(other, -2.0), score)
        top = [p for p, _ in sorted(best.items(), key=lambda item: (-item[1], item[0]))[:8]]
        exact.append(np.mean([category[p] == category[product_id] for p in top]))
        listed = [m.product.pk for m in product_similar_list(product_id=product_id, limit=8)]
        pipeline.append(np.mean([category[p] == category[product_id] for p in listed]) if listed else 0.0)
    return float(np.mean(pipeline)), float(np.mean(exact))


def exact_top(matrix: np.ndarray, image_products: np.ndarray, query: np.ndarray) -> list[int]:
    scores = matrix @ query
    best: dict[int, float] = {}
    for product_id, score in zip(image_products.tolist(), scores.tolist(), strict=False):
        best[product_id] = max(best.get(product_id, -2.0), score)
    return [p for p, _ in sorted(best.items(), key=lambda item: (-item[1], item[0]))[:K]]


def metrics(
    top: list[int], *, query_product: int, category: dict[int, int], class_size: dict[int, int]
) -> dict[str, float]:
    query_class = category[query_product]
    same_class = [category[p] == query_class for p in top]
    return {
        "fine P@1": float(top[0] == query_product),
        "fine hit@5": float(query_product in top[:5]),
        "fine P@5": sum(p == query_product for p in top[:5]) / 5,
        "fine R@10": float(query_product in top[:K]),
        "coarse P@1": float(same_class[0]),
        "coarse P@5": sum(same_class[:5]) / 5,
        "coarse R@10": sum(same_class[:K]) / class_size[query_class],
    }


def evaluate(name: str, dataset: Path, step: int) -> tuple[dict, dict, dict]:
    """Per query: pipeline metrics and exact metrics, grouped by coarse class id, in the served version."""
    version = serving_model()
    embedder = embedder_get(name)
    products = {p.name: p for p in Product.objects.all()}
    category = {p.pk: p.category_id for p in products.values()}
    class_size: dict[int, int] = defaultdict(int)
    for class_id in category.values():
        class_size[class_id] += 1
    image_products, matrix = catalog_exact(name, version)
    queries = grocery_store_query_photos(dataset, shop_photos_per_product=SHOP_PHOTOS_PER_PRODUCT)[::step]
    ours: dict[int, list[dict]] = defaultdict(list)
    exact: dict[int, list[dict]] = defaultdict(list)
    same_lists = 0
    with progress_bar(total=len(queries), description=f"Queries ({name})") as update:
        for path, label in queries:
            content = path.read_bytes()
            results = search_by_image(upload=SimpleUploadedFile(path.name, content, "image/jpeg"), k=K)
            top = [match.product.pk for match in results]
            # The vector search_by_image searched with: same decode, same model, same normalisation.
            image = image_decode(
                SimpleUploadedFile(path.name, content), max_pixels=settings.LOOKALIKE_MAX_IMAGE_PIXELS
            )
            vector = query_vector_compose(liked=[vectors_project(embedder.embed_one(image), version=version)])
            top_exact = exact_top(matrix, image_products, vector)
            query_product = products[label].pk
            ours[category[query_product]].append(
                metrics(top, query_product=query_product, category=category, class_size=class_size)
            )
            exact[category[query_product]].append(
                metrics(top_exact, query_product=query_product, category=category, class_size=class_size)
            )
            same_lists += top == top_exact
            update(1)
    summary = {
        "version": version,
        "strip": strip_quality(image_products, matrix, category),
        "queries": len(queries),
        "products": len(products),
        "images": len(matrix),
        "same_lists": same_lists,
    }
    return ours, exact, summary


def mean(groups: dict[int, list[dict]], metric: str, classes=None) -> float:
    rows = [row for class_id, rs in groups.items() if classes is None or class_id in classes for row in rs]
    return float(np.mean([row[metric] for row in rows]))


def overall_table(name: str, ours: dict, exact: dict, summary: dict) -> list[str]:
    lines = [
        f"**{summary['version']}**: {summary['queries']} queries, {summary['products']} products, {summary['images']} catalog images; "
        f"identical top-10 lists for {summary['same_lists']}/{summary['queries']} queries\n",
        "| metric | search_by_image (Neo4j index) | exact NumPy | abs. difference |",
        "|---|---|---|---|",
    ]
    for metric in METRICS:
        a, b = mean(ours, metric), mean(exact, metric)
        lines.append(f"| {metric} | {a:.3f} | {b:.3f} | {abs(a - b):.3f} |")
    a, b = summary["strip"]
    lines.append(f"| strip (SIMILAR_TO) | {a:.3f} | {b:.3f} | {abs(a - b):.3f} |")
    return lines


def splits_table(dataset: Path, name: str) -> list[str]:
    """Identity against the projection (defaults) on every split, in NumPy over cached embeddings."""
    photos = Photos.load(str(embeddings_cache(dataset, name)))

    def fitted(photos: Photos, split) -> object:  # type: ignore[no-untyped-def]
        rows = split.fit
        return projection_fit(
            photos.plain[rows], products=photos.product[rows], categories=photos.category[rows]
        )

    lines = [
        f"**{name}**, NumPy, mean of 3 seeds (queries: a quarter of each product's shop photos)\n",
        "| split | projection | flip | P@1 | top-5 | coarse P@1 | strip |",
        "|---|---|---|---|---|---|---|",
    ]
    for flip in (False, True):
        for label, fit in (("identity", lambda photos, split: None), ("fitted", fitted)):
            for split, row in averaged(photos, fit, flip=flip).items():
                cells = " | ".join(f"{value:.3f}" for value in row.values())
                lines.append(f"| {split} | {label} | {'yes' if flip else 'no'} | {cells} |")
    return lines


def class_table(ours: dict, exact: dict) -> list[str]:
    from catalog.models import Category

    names = dict(Category.objects.values_list("pk", "name"))
    sizes = defaultdict(int)
    for class_id in Product.objects.values_list("category_id", flat=True):
        sizes[class_id] += 1
    lines = [
        "| coarse class | products | queries | fine P@1 | coarse P@1 | coarse P@5 | coarse R@10 | max abs. diff. vs exact |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for class_id in sorted(ours, key=lambda c: names[c]):
        cells = [mean(ours, m, {class_id}) for m in ("fine P@1", "coarse P@1", "coarse P@5", "coarse R@10")]
        diff = max(abs(mean(ours, m, {class_id}) - mean(exact, m, {class_id})) for m in METRICS)
        lines.append(
            f"| {names[class_id]} | {sizes[class_id]} | {len(ours[class_id])} | "
            + " | ".join(f"{c:.3f}" for c in cells)
            + f" | {diff:.3f} |"
        )
    return lines


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--step", type=int, default=1, help="use every n-th held-out shop photo as a query")
    args = parser.parse_args()
    database_migrate()
    for name in BACKBONES:
        try:
            embedder_get(name)
        except BackboneUnavailable as exc:
            print(f"\n**{name}**: unavailable — {exc}\n")
            continue
        print("\n" + "\n".join(splits_table(args.dataset, name)) + "\n", flush=True)
        with override_settings(LOOKALIKE_BACKBONE=name):
            demo_import(args.dataset)
            ours, exact, summary = evaluate(name, args.dataset, args.step)
            print("\n" + "\n".join(overall_table(name, ours, exact, summary)) + "\n", flush=True)
            print("\n".join(class_table(ours, exact)) + "\n", flush=True)
            projection_refit(progress=progress_bar_factory)
            serving_forget()
            ours, exact, summary = evaluate(name, args.dataset, args.step)
            print("\n" + "\n".join(overall_table(name, ours, exact, summary)) + "\n", flush=True)
            print("\n".join(class_table(ours, exact)) + "\n", flush=True)


def progress_bar_factory(total: int, description: str, unit: str):  # type: ignore[no-untyped-def]
    return progress_bar(total=total, description=description, unit=unit)


if __name__ == "__main__":
    main()
