"""Embeds the labelled photo set with preprocessing other than the app's (resize to RESIZE_PX, centre-crop
CROP_PX), to measure what keeping more of the photo gives. Report only: the served preprocessing is unchanged.

    .venv/bin/python -m benchmarks.preprocessing_variants [--variants pad224,squash224,...] [--dataset DIR]

Each variant writes `var/embeddings/<backbone>-<dataset>-<variant>.npz` in the embedding cache's format (no
flips); `--score` then scores the variants' files on the held-out splits (retrieval_splits' and
product_scores' `uneven`; identity and the default fit, whitening + head, fitted on each variant's own
vectors), catalog and queries preprocessed alike. Variants:
  served     Resize(RESIZE_PX), CenterCrop(CROP_PX): the app's (a check against the cache, and the cost baseline)
  crop240    Resize(240), CenterCrop(CROP_PX): a smaller crop margin
  crop288    Resize(288), CenterCrop(CROP_PX): a larger one (keeps less of the photo: the control)
  squash224  the whole photo resized to CROP_PX x CROP_PX (aspect not kept)
  pad224     the whole photo resized to fit CROP_PX x CROP_PX, aspect kept, padded with the normalisation's
             mean colour (zeros after normalising)
  pad256     the same at 256 x 256 (the CNN pools globally, so it takes the larger input; 1.31x the pixels):
             the served one's scale without its crop
  pad288     the same at 288 x 288 (1.65x the pixels)
  crop288to256  Resize(288), CenterCrop(256): crop288's scale, keeping as much of the photo as the served crop
               (the served preprocessing at 1.125x the resolution; 1.31x the pixels)
  crop272to240, crop320to288, crop352to320  the same at 1.06x, 1.25x, 1.375x the resolution (1.15x, 1.65x,
               2.04x the pixels)
Each pass's wall time and CPU seconds (this process: decode, preprocess and CNN) are printed with the load;
`--cost N` times the CNN alone at 224, 240, 256, 288 and 320 px (N interleaved rounds of batches of 4).
Photos are decoded as the app does: a JPEG may be drafted down to a short side of RESIZE_PX (256), so variants
resizing above that upscale photos larger than ~512 px (the Grocery Store photos, 348 px, are decoded whole).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

from benchmarks._setup import arguments_with_dataset
from benchmarks.embedding_cache import CACHE_DIR, MAX_PIXELS, cache_path, cache_write, labelled_photos
from benchmarks.product_scores import default_fit, splits_with_uneven
from benchmarks.retrieval_splits import Photos, metrics
from search.embeddings import CROP_PX, RESIZE_PX, Embedder, embedder_get, image_decode


class Letterbox:
    """Fit the whole photo in a `size` square, aspect kept, centred on a `fill`-coloured background."""

    def __init__(self, size: int, fill: tuple[int, int, int]) -> None:
        self.size, self.fill = size, fill

    def __call__(self, image: Image.Image) -> Image.Image:
        scale = self.size / max(image.size)
        width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        canvas = Image.new("RGB", (self.size, self.size), self.fill)
        resized = image.resize((width, height), Image.Resampling.BILINEAR)
        canvas.paste(resized, ((self.size - width) // 2, (self.size - height) // 2))
        return canvas


def variant_transform(name: str, embedder: Embedder) -> transforms.Compose:
    mean, std = embedder.backbone.mean, embedder.backbone.std
    fill = tuple(round(255 * m) for m in mean)
    geometry = {
        "served": [transforms.Resize(RESIZE_PX), transforms.CenterCrop(CROP_PX)],
        "crop240": [transforms.Resize(240), transforms.CenterCrop(CROP_PX)],
        "crop288": [transforms.Resize(288), transforms.CenterCrop(CROP_PX)],
        "squash224": [transforms.Resize((CROP_PX, CROP_PX))],
        "pad224": [Letterbox(CROP_PX, fill)],  # type: ignore[list-item]
        "pad256": [Letterbox(256, fill)],  # type: ignore[list-item]
        "pad288": [Letterbox(288, fill)],  # type: ignore[list-item]
        "crop288to256": [transforms.Resize(288), transforms.CenterCrop(256)],
        "crop272to240": [transforms.Resize(272), transforms.CenterCrop(240)],
        "crop320to288": [transforms.Resize(320), transforms.CenterCrop(288)],
        "crop352to320": [transforms.Resize(352), transforms.CenterCrop(320)],
    }[name]
    return transforms.Compose([*geometry, transforms.ToTensor(), transforms.Normalize(mean, std)])


def variant_path(dataset: Path, backbone: str, variant: str) -> Path:
    return CACHE_DIR / f"{backbone}-{dataset.resolve().name}-{variant}.npz"


def variant_embed(dataset: Path, backbone: str, variant: str, *, limit: int = 0) -> Path:
    rows = labelled_photos(dataset)[: limit or None]
    embedder = embedder_get(backbone)
    transform = variant_transform(variant, embedder)
    tensors = (transform(image_decode(str(dataset / row["filename"]), max_pixels=MAX_PIXELS)) for row in rows)
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    plain = np.concatenate(list(embedder.embed_preprocessed(tensors)))
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"{variant}: {len(rows)} photos, {wall_s:.0f} s wall ({len(rows) / wall_s:.1f}/s), {cpu_s:.0f} CPU-s "
        f"({1000 * cpu_s / len(rows):.0f} CPU-ms per photo), load {load_before:.2f} -> {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    if variant == "served":
        cached = np.load(cache_path(dataset, backbone))["plain"][: len(rows)]
        print(f"  served against the cache: max abs diff {np.abs(cached - plain).max():.2e}", flush=True)
    path = variant_path(dataset, backbone, variant)
    cache_write(path, rows, plain=plain)
    return path


def variants_score(paths: list[Path], seeds: list[int], out: Path | None) -> None:
    print(
        "| variant | split | fit | seed | P@1 | top-5 | coarse P@1 | strip |\n|---|---|---|---|---|---|---|---|"
    )
    for path in paths:
        photos = Photos.load(str(path))
        for seed in seeds:
            for split in splits_with_uneven(photos, seed=seed):
                for fit, projection in (("identity", None), ("head", default_fit(photos, split))):
                    row = metrics(photos, split, projection)
                    cells = " | ".join(f"{value:.3f}" for value in row.values())
                    print(f"| {path.stem} | {split.name} | {fit} | {seed} | {cells} |", flush=True)
                    if out:
                        with out.open("a") as handle:
                            line = {
                                "variant": path.stem,
                                "split": split.name,
                                "fit": fit,
                                "seed": seed,
                                **row,
                            }
                            handle.write(json.dumps(line) + "\n")


def forward_cost(embedder: Embedder, sides: list[int], rounds: int) -> None:
    """CPU-ms per image of the CNN alone at each input side, batches of 4, the sides interleaved."""
    spent = dict.fromkeys(sides, 0.0)
    for _ in range(rounds):
        for side in sides:
            batch = list(torch.zeros(4, 3, side, side))
            started = time.process_time()
            embedder._embed_batch(batch)
            spent[side] += time.process_time() - started
    for side in sides:
        print(f"CNN at {side} x {side}: {1000 * spent[side] / (4 * rounds):.1f} CPU-ms per image", flush=True)


def main() -> None:
    parser = arguments_with_dataset(__doc__)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--variants", default="served,pad224,squash224,crop240,pad256")
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos (0: all)")
    parser.add_argument(
        "--score", action="store_true", help="score the variants' files instead of making them"
    )
    parser.add_argument("--seeds", default="0,1,2,3,4,5")
    parser.add_argument(
        "--out", type=Path, help="with --score: append one JSON line per variant, split, fit, seed"
    )
    parser.add_argument("--cost", type=int, default=0, help="time the CNN alone at 224-320 px, N rounds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.cost:
        forward_cost(embedder_get(args.backbone), [CROP_PX, 240, 256, 288, 320], args.cost)
        return
    if args.score:
        paths = [variant_path(args.dataset, args.backbone, v) for v in args.variants.split(",")]
        variants_score(paths, [int(s) for s in args.seeds.split(",")], args.out)
        return
    for variant in args.variants.split(","):
        print(variant_embed(args.dataset, args.backbone, variant, limit=args.limit), flush=True)


if __name__ == "__main__":
    main()
