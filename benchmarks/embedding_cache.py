"""Embeds a labelled photo set once, so retrieval experiments never rerun the CNN.

    .venv/bin/python -m benchmarks.embedding_cache [--dataset DIR] [--backbone efficientnet_lite0]

Reads the Grocery Store layout (`labels.csv`: filename,label,coarse_label,split) and writes
`var/embeddings/<backbone>-<dataset>.npz` with the filenames, labels, the L2-normalised embedding of each
photo as the app makes it (same decode and preprocessing) and, with --flips, of its mirror image.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import torch
from PIL import ImageOps

from search.embeddings import embedder_get, image_decode

CACHE_DIR = Path(__file__).resolve().parents[1] / "var" / "embeddings"
DEFAULT_DATASET = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "grocery-store"
MAX_PIXELS = 40_000_000


def cache_path(dataset: Path, backbone: str) -> Path:
    return CACHE_DIR / f"{backbone}-{dataset.resolve().name}.npz"


def labelled_photos(dataset: Path) -> list[dict[str, str]]:
    with (dataset / "labels.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def cache_write(
    path: Path, rows: list[dict[str, str]], *, plain: np.ndarray, flipped: np.ndarray | None = None
) -> None:
    """The cache file: each photo's labels and vectors (and its mirror image's, when embedded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        filename=np.array([row["filename"] for row in rows]),
        label=np.array([row["label"] for row in rows]),
        coarse=np.array([row["coarse_label"] for row in rows]),
        split=np.array([row["split"] for row in rows]),
        plain=plain,
        flipped=plain if flipped is None else flipped,
        has_flips=np.array(flipped is not None),
    )


def embeddings_cache(dataset: Path, backbone: str, *, flips: bool = False) -> Path:
    """The cache file, made on first use. `flips` also embeds each photo's mirror image (twice the work);
    asked of a cache made without them, it adds them (the plain vectors are kept)."""
    path = cache_path(dataset, backbone)
    cached = np.load(path) if path.exists() else None
    if cached is not None and (not flips or bool(cached["has_flips"])):
        return path
    rows = labelled_photos(dataset)
    embedder = embedder_get(backbone)

    def images():  # decoded lazily: the whole set would not fit in memory at once
        return (image_decode(str(dataset / row["filename"]), max_pixels=MAX_PIXELS) for row in rows)

    if cached is not None and list(cached["filename"]) == [row["filename"] for row in rows]:
        plain = cached["plain"]
    else:
        plain = np.stack(list(embedder.embed_many(images())))
    flipped = (
        np.stack(list(embedder.embed_many(ImageOps.mirror(image) for image in images()))) if flips else None
    )
    cache_write(path, rows, plain=plain, flipped=flipped)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--flips", action="store_true", help="also embed mirror images (flip averaging)")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(embeddings_cache(args.dataset, args.backbone, flips=args.flips))


if __name__ == "__main__":
    main()
