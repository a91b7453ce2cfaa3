"""Retrieval quality of the identity and the catalog projection on held-out splits: exact NumPy on cached
embeddings, and the same splits through the real pipeline (SQLite catalog + the bench Neo4j).

    LOOKALIKE_NEO4J_INSTANCE=bench .venv/bin/python -m benchmarks.retrieval_quality \
        [--dataset DIR] [--seed 0] [--splits all,three,iconic] [--uploads 40] [--skip-numpy]

1. NumPy (benchmarks/retrieval_splits.py, mean of 3 seeds): identity and the projection with its defaults on
   every split (queries never in the catalog nor in the fit), plain and flip-averaged when the cache has flips.
2. Pipeline, per split of one seed: the split's catalog photos become products (one per fine label, the coarse
   label as category) whose images carry the cached raw embeddings (benchmarks/embedding_cache.py: the same
   decode and CNN as the app). The identity version is built and served by the real build-and-switch path
   (`projection_off`: images_project, vector index, SIMILAR_TO), then `projection_refit` fits on the stored
   embeddings and switches. For each, every held-out query vector goes through the served projection
   (`vectors_project`) and the Neo4j vector index (`products_nearest`, k=10), and every product's strip comes
   from SIMILAR_TO (`product_similar_list`, 8). The NumPy column is retrieval_splits.metrics over the same
   vectors with the served fit's stored projection. The first `--uploads` queries of each split also go
   through `search_by_image` as uploaded files (decode + CNN + projection + index), compared with the
   cached-vector path.

Metrics: P@1 (the query's product first), top-5 (in the first five), coarse P@1 (the first product of the
query's coarse class), strip (share of each product's 8 similar items in its coarse class).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks._setup import arguments_with_dataset, database_migrate, django_temp

django_temp("retrieval-quality")

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402

from benchmarks.catalog_from_cache import CachedImage, catalog_load, identity_serve, progress_factory  # noqa: E402
from benchmarks.embedding_cache import embeddings_cache  # noqa: E402
from benchmarks.retrieval_splits import Photos, Split, averaged, splits  # noqa: E402
from benchmarks.retrieval_splits import metrics as numpy_metrics  # noqa: E402
from search import fitting  # noqa: E402
from search.progress import progress_bar  # noqa: E402
from search.projection import DEFAULT_SHRINKAGE, projection_fit  # noqa: E402
from search.serving import serving_forget, serving_model  # noqa: E402
from search.similarity import product_similar_list, products_nearest, search_by_image  # noqa: E402
from search.versions import vectors_project, version_projection, version_similar_min_score  # noqa: E402

K = 10
STRIP_K = 8
METRICS = ("P@1", "top-5", "coarse P@1", "strip")
# One process searches here, so nothing can still be reading the old version after a switch.
fitting.SWITCH_GRACE_S = 0.0


def split_catalog(
    photos: Photos, names: dict[str, np.ndarray], split: Split, dataset: Path
) -> dict[int, int]:
    """The split's catalog photos loaded with their cached vectors; the photo set's product index by pk."""
    images = [
        CachedImage(
            product=str(names["label"][row]),
            category=str(names["coarse"][row]),
            filename=str(names["filename"][row]),
            vector=photos.plain[row],
        )
        for row in split.catalog
    ]
    pks = catalog_load(images, dataset)
    index_of_label = {str(names["label"][row]): int(photos.product[row]) for row in split.catalog}
    return {pk: index_of_label[label] for label, pk in pks.items()}


def pipeline_metrics(photos: Photos, split: Split, index_of: dict[int, int]) -> dict[str, float]:
    """The split's queries and strips through the served version in Neo4j."""
    version = serving_model()
    pk_of = {index: pk for pk, index in index_of.items()}
    category_of = {pk: int(photos.category[photos.product == index][0]) for pk, index in index_of.items()}
    queries = vectors_project(photos.plain[split.scored], version=version)
    first, top5, coarse, top_scores = [], [], [], []
    with progress_bar(total=len(queries), description=f"Queries ({version})") as update:
        for vector, row in zip(queries, split.scored, strict=True):
            matches = products_nearest(vector=vector, k=K, model=version)
            top = [m.product.pk for m in matches]
            top_scores.append(matches[0].score)
            truth = pk_of[int(photos.product[row])]
            first.append(top[0] == truth)
            top5.append(truth in top[:5])
            coarse.append(category_of[top[0]] == category_of[truth])
            update(1)
    strip, filled, scores = [], [], []
    for pk in sorted(index_of):
        matches = product_similar_list(product_id=pk, limit=STRIP_K)
        listed = [m.product.pk for m in matches]
        strip.append(np.mean([category_of[p] == category_of[pk] for p in listed]) if listed else 0.0)
        filled.append(len(listed) / STRIP_K)
        scores.extend(m.score for m in matches)
    print(
        f"{version}: search top-1 scores p5/median/p95 {np.percentile(top_scores, 5):.3f}/"
        f"{np.median(top_scores):.3f}/{np.percentile(top_scores, 95):.3f}; strips {np.mean(filled):.1%} full (min score {version_similar_min_score(version)}); "
        f"strip scores p5/median/p95 {np.percentile(scores, 5):.3f}/{np.median(scores):.3f}/"
        f"{np.percentile(scores, 95):.3f}",
        flush=True,
    )
    # The best a strip can do: a product's class may hold fewer than 8 other products.
    class_sizes = np.bincount(list(category_of.values()))
    ceiling = np.mean([min(STRIP_K, class_sizes[c] - 1) / STRIP_K for c in category_of.values()])
    return {
        "strip ceiling": float(ceiling),
        "P@1": float(np.mean(first)),
        "top-5": float(np.mean(top5)),
        "coarse P@1": float(np.mean(coarse)),
        "strip": float(np.mean(strip)),
    }


def uploads_compared(
    photos: Photos, names: dict[str, np.ndarray], split: Split, dataset: Path, count: int
) -> tuple[int, int, float]:
    """The first `count` queries uploaded through search_by_image (decode, CNN, projection, index) against
    the same queries' cached vectors: identical top-10 lists, and the largest difference of top-1 score."""
    version = serving_model()
    same, worst = 0, 0.0
    rows = split.scored[:count]
    with progress_bar(total=len(rows), description="Uploads (CNN)") as update:
        for row in rows:
            path = dataset / str(names["filename"][row])
            uploaded = search_by_image(
                upload=SimpleUploadedFile(path.name, path.read_bytes(), "image/jpeg"), k=K
            )
            vector = vectors_project(photos.plain[row], version=version)
            cached = products_nearest(vector=vector, k=K, model=version)
            same += [m.product.pk for m in uploaded] == [m.product.pk for m in cached]
            worst = max(worst, abs(uploaded[0].score - cached[0].score))
            update(1)
    return same, len(rows), worst


def splits_table(photos: Photos, name: str, shrinkages: list[float]) -> list[str]:
    """Identity against the projection (each shrinkage) on every split, in NumPy over cached embeddings."""

    def fitter(shrinkage: float):  # type: ignore[no-untyped-def]
        def fitted(photos: Photos, split: Split):  # type: ignore[no-untyped-def]
            rows = split.fit
            return projection_fit(
                photos.plain[rows],
                products=photos.product[rows],
                categories=photos.category[rows],
                shrinkage=shrinkage,
            )

        return fitted

    flips = (False, True) if photos.has_flips else (False,)
    lines = [
        f"**{name}**, NumPy, mean of 3 seeds (queries: a quarter of each product's shop photos)\n",
        "| split | projection | flip | P@1 | top-5 | coarse P@1 | strip |",
        "|---|---|---|---|---|---|---|",
    ]
    for flip in flips:
        fits = [("identity", lambda photos, split: None)]
        fits += [(f"fitted, shrinkage {value}", fitter(value)) for value in shrinkages]
        for label, fit in fits:
            for split, row in averaged(photos, fit, flip=flip).items():
                cells = " | ".join(f"{value:.3f}" for value in row.values())
                lines.append(f"| {split} | {label} | {'yes' if flip else 'no'} | {cells} |")
    return lines


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--splits", default="all,three,iconic", help="comma-separated split names")
    parser.add_argument("--uploads", type=int, default=40, help="queries per split also sent as uploads")
    parser.add_argument("--skip-numpy", action="store_true", help="skip the 3-seed NumPy table")
    parser.add_argument("--numpy-only", action="store_true", help="only the 3-seed NumPy table")
    parser.add_argument("--shrinkages", default=str(DEFAULT_SHRINKAGE), help="comma-separated, NumPy table")
    parser.add_argument("--step", type=int, default=1, help="score every n-th query only (a quick check)")
    args = parser.parse_args()
    database_migrate()
    name = settings.LOOKALIKE_BACKBONE
    cache = embeddings_cache(args.dataset, name)
    photos = Photos.load(str(cache))
    names = {key: np.load(cache)[key] for key in ("filename", "label", "coarse")}
    if not args.skip_numpy:
        shrinkages = [float(v) for v in args.shrinkages.split(",")]
        print("\n" + "\n".join(splits_table(photos, name, shrinkages)) + "\n", flush=True)
    if args.numpy_only:
        return
    wanted = args.splits.split(",")
    lines = [
        f"**{name}**, pipeline (Neo4j) against NumPy, seed {args.seed}\n",
        "| split | version | queries | images | "
        + " | ".join(f"{m} pipeline / NumPy" for m in METRICS)
        + " | max abs. diff. | uploads: same top-10 | uploads: max top-1 score diff. | strip ceiling |",
        "|---|---|---|---|" + "---|" * len(METRICS) + "---|---|---|---|",
    ]
    for split in splits(photos, seed=args.seed):
        if split.name not in wanted:
            continue
        split = replace(split, scored=split.scored[:: args.step])
        index_of = split_catalog(photos, names, split, args.dataset)
        for stage in ("identity", "fitted"):
            if stage == "identity":
                identity_serve()
            else:
                fitting.projection_refit(progress=progress_factory)
            serving_forget()
            version = serving_model()
            ours = pipeline_metrics(photos, split, index_of)
            exact = numpy_metrics(photos, split, version_projection(version))
            same, sent, worst = uploads_compared(photos, names, split, args.dataset, args.uploads)
            diff = max(abs(ours[m] - exact[m]) for m in METRICS)
            lines.append(
                f"| {split.name} | {version} | {len(split.scored)} | {len(split.catalog)} | "
                + " | ".join(f"{ours[m]:.3f} / {exact[m]:.3f}" for m in METRICS)
                + f" | {diff:.3f} | {same}/{sent} | {worst:.4f} | {ours['strip ceiling']:.3f} |"
            )
            print(lines[-1], flush=True)
    print("\n" + "\n".join(lines) + "\n", flush=True)


if __name__ == "__main__":
    main()
