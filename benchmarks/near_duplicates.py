"""Where the near-duplicate threshold should sit: cosine of a photo to its own edited copies vs. to
other photos (of the same class and of any class), on the Grocery Store demo photos.

    .venv/bin/python -m benchmarks.near_duplicates [--dataset DIR] [--per-class 3] [--projected [--no-head]]

Prints percentiles per kind of pair as a Markdown table, and the widest gap for a threshold. `--projected`
also scores in the served default fit (the whitening and the trained head; `--no-head`: the whitening alone)
fitted on the dataset's other photos, and scores the raw cosine of the candidates the served index would return
(`CANDIDATES` nearest projected images among the whole dataset's cached photos): how many copies that finds.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from search.embeddings import embedder_get, image_decode
from search.projection import Projection

DEFAULT_DATASET = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "grocery-store"
MAX_PIXELS = 40_000_000
CANDIDATES = 16  # search.duplicates.CANDIDATES (importing it needs Django set up)


def _jpeg(image: Image.Image, quality: int = 95) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return buffer


def _reencode(image: Image.Image, quality: int) -> Image.Image:
    return Image.open(_jpeg(image, quality)).convert("RGB")


def _centre_crop(image: Image.Image, share: float) -> Image.Image:
    w, h = image.size
    dw, dh = int(w * (1 - share) / 2), int(h * (1 - share) / 2)
    return image.crop((dw, dh, w - dw, h - dh))


def _resize(image: Image.Image, share: float) -> Image.Image:
    return image.resize((max(1, int(image.width * share)), max(1, int(image.height * share))), Image.LANCZOS)


# What staff re-uploading "the same photo" typically does to it.
EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "re-encoded JPEG q60": lambda im: _reencode(im, 60),
    "resized to 50%": lambda im: _resize(im, 0.5),
    "resized to 70% + q75": lambda im: _reencode(_resize(im, 0.7), 75),
    "centre crop 90%": lambda im: _centre_crop(im, 0.9),
    "centre crop 80%": lambda im: _centre_crop(im, 0.8),
}


def _photos(dataset: Path, per_class: int) -> list[tuple[str, Path]]:
    """`per_class` shop photos of each class, and its catalogue ("iconic") photo, as (label, path)."""
    by_label: dict[str, list[Path]] = defaultdict(list)
    with (dataset / "labels.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["split"] == "train" and len(by_label[row["label"]]) < per_class:
                by_label[row["label"]].append(dataset / row["filename"])
    for iconic in sorted((dataset / "iconic-images-and-descriptions").rglob("*_Iconic.jpg")):
        label = iconic.stem.removesuffix("_Iconic")
        if label in by_label:
            by_label[label].append(iconic)
    return [(label, path) for label, paths in sorted(by_label.items()) for path in paths]


def _row(kind: str, scores: list[float]) -> str:
    a = np.array(scores)
    p = np.percentile(a, [0, 1, 5, 50, 95, 99, 100])
    return f"| {kind} | {len(a)} | " + " | ".join(f"{v:.3f}" for v in p) + " |"


def _other_photos(dataset: Path, backbone: str, exclude: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """The cached vectors and product ids of the dataset's photos other than `exclude`."""
    from benchmarks.embedding_cache import embeddings_cache

    data = np.load(embeddings_cache(dataset, backbone))
    keep = np.array([str(dataset / name) not in exclude for name in data["filename"]])
    _, products = np.unique(data["label"][keep], return_inverse=True)
    return data["plain"][keep], products


def _projection_from_cache(vectors: np.ndarray, products: np.ndarray, *, head: bool) -> Projection | None:
    """A projection fitted as the shop's default fit would be: on the catalog's other photos, by product."""
    from search.head import head_train
    from search.projection import projection_fit

    projection = projection_fit(vectors, products=products, categories=products)
    if projection is None or not head:
        return projection
    return head_train(vectors, products, base=projection)


def _raw_rescored(
    projected: np.ndarray,
    raw: np.ndarray,
    projected_copies: dict[str, np.ndarray],
    raw_copies: dict[str, np.ndarray],
    projected_others: np.ndarray,
    iconic: np.ndarray,
) -> None:
    """Near-duplicates as `search.duplicates` would find them with raw rescoring: the CANDIDATES nearest images
    in the served (projected) space, among the dataset's other photos and these photos, scored by raw cosine."""
    catalog = np.concatenate([projected, projected_others])
    print(f"\nRaw cosine of the {CANDIDATES} projected candidates among {len(catalog)} photos:\n")
    print("| copy | original among the candidates s / c | caught at 0.88 s / c |\n|---|---|---|")
    for name, copy in projected_copies.items():
        scores = copy @ catalog.T
        # the original photo is row i of the catalog: its rank among all photos for copy i
        rank = np.sum(scores > scores[np.arange(len(copy)), np.arange(len(copy))][:, None], axis=1)
        found = rank < CANDIDATES - 1  # the index returns the copy itself first (its own product: dropped)
        caught = found & (np.sum(raw * raw_copies[name], axis=1) >= 0.88)
        print(
            f"| {name} | {found[~iconic].mean():.0%} / {found[iconic].mean():.0%} "
            f"| {caught[~iconic].mean():.0%} / {caught[iconic].mean():.0%} |"
        )
    flagged = []
    for i, v in enumerate(projected):
        scores = catalog @ v
        scores[i] = -np.inf
        candidates = np.argsort(-scores)[: CANDIDATES - 1]
        candidates = candidates[candidates < len(raw)]  # raw vectors of the other photos are not loaded
        flagged.append(bool(len(candidates)) and float(np.max(raw[candidates] @ raw[i])) >= 0.88)
    print(f"\ndistinct photos flagged at raw 0.88 among these photos' candidates: {np.mean(flagged):.1%}")


def _report(
    vectors: np.ndarray, copies: dict[str, np.ndarray], labels: list[str], iconic: np.ndarray
) -> None:
    edited: dict[str, list[float]] = {}
    for name, copy in copies.items():
        scores = np.sum(vectors * copy, axis=1)
        edited[f"{name} (shop photos)"] = [float(v) for v in scores[~iconic]]
        edited[f"{name} (catalogue photos)"] = [float(v) for v in scores[iconic]]
    same_class, other_class = [], []
    for i, j in itertools.combinations(range(len(vectors)), 2):
        (same_class if labels[i] == labels[j] else other_class).append(float(vectors[i] @ vectors[j]))
    nearest_other_photo = [float(np.max(np.delete(vectors @ v, i))) for i, v in enumerate(vectors)]
    print("| pair | n | min | p1 | p5 | median | p95 | p99 | max |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, scores in edited.items():
        print(_row(f"same photo, {name}", scores))
    print(_row("different photos, same class", same_class))
    print(_row("different photos, different class", other_class))
    print(_row("each photo's nearest other photo", nearest_other_photo))
    lowest_copy = min(min(s) for s in edited.values())
    highest_other = max(nearest_other_photo)
    print(f"\nlowest same-photo cosine {lowest_copy:.3f}; highest different-photo cosine {highest_other:.3f}")
    for threshold in (0.40, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.88, 0.90, 0.92):
        caught = {name: np.mean(np.array(scores) >= threshold) for name, scores in edited.items()}
        flagged = np.mean(np.array(nearest_other_photo) >= threshold)
        print(
            f"threshold {threshold:.2f}: distinct photos flagged {flagged:.1%}; copies caught "
            + ", ".join(f"{name} {share:.0%}" for name, share in caught.items())
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--per-class", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)"
    )
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument(
        "--projected",
        action="store_true",
        help="also score in a catalog projection fitted on the dataset's other photos (cached embeddings)",
    )
    parser.add_argument("--no-head", action="store_true", help="the projection is the whitening alone")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    photos = _photos(args.dataset, args.per_class)
    embedder = embedder_get(args.backbone)
    vectors = np.stack(
        list(embedder.embed_many(image_decode(str(path), max_pixels=MAX_PIXELS) for _, path in photos))
    )
    full = [Image.open(path).convert("RGB") for _, path in photos]  # edits start from the full-size photo
    iconic = np.array(["_Iconic" in path.name for _, path in photos])
    # Copies go through the same decoding as uploads (image_decode), as the admin's would.
    copies = {
        name: np.stack(
            list(embedder.embed_many(image_decode(_jpeg(edit(im)), max_pixels=MAX_PIXELS) for im in full))
        )
        for name, edit in EDITS.items()
    }
    labels = [label for label, _ in photos]
    print(
        f"{len(photos)} photos ({args.per_class} shop photos and the catalogue photo per class) "
        f"from {args.dataset}, {args.backbone}\n"
    )
    _report(vectors, copies, labels, iconic)
    if args.projected:
        from search.projection import project

        others, products = _other_photos(args.dataset, args.backbone, {str(path) for _, path in photos})
        projection = _projection_from_cache(others, products, head=not args.no_head)
        fit = "whitening" if args.no_head else "whitening + head"
        print(
            f"\nIn the catalog projection ({fit}, {projection.grouping} groups, {projection.dimensions}d):\n"
        )
        projected = project(vectors, projection)
        projected_copies = {name: project(copy, projection) for name, copy in copies.items()}
        _report(projected, projected_copies, labels, iconic)
        _raw_rescored(projected, vectors, projected_copies, copies, project(others, projection), iconic)


if __name__ == "__main__":
    main()
