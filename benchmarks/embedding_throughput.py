"""Embedding throughput on this machine: model alone vs the whole pipeline (decode + preprocess + model).

    .venv/bin/python -m benchmarks.embedding_throughput [--images DIR] [--count 192]

Prints images/s per backbone, batch size and torch thread count, as a Markdown table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from search.backbones import BACKBONES, BackboneUnavailable
from search.embeddings import Embedder, image_decode

DEFAULT_IMAGES = (
    Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "grocery-store" / "train"
)
MAX_PIXELS = 40_000_000


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--count", type=int, default=192)
    parser.add_argument("--batch-sizes", default="1,2,4,8,16,32")
    args = parser.parse_args()

    paths = sorted(args.images.rglob("*.jpg"))[: args.count]
    decoded = [image_decode(str(p), max_pixels=MAX_PIXELS) for p in paths]
    print(
        f"{len(paths)} images from {args.images}; torch {torch.__version__}; {torch.get_num_threads()} threads max\n"
    )
    print(
        "| backbone | threads | batch | model alone (img/s) | decode + preprocess + model (img/s) | pipeline / model |"
    )
    print("|---|---|---|---|---|---|")
    for name, backbone in BACKBONES.items():
        try:
            embedder = Embedder(backbone)
        except BackboneUnavailable as exc:
            print(f"| {name} | – | – | unavailable: {str(exc).split('.')[0]} | – | – |")
            continue
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for batch_size in (int(b) for b in args.batch_sizes.split(",")):
                list(embedder.embed_many(decoded[:batch_size], batch_size=batch_size))  # warm-up
                batches = [
                    torch.stack([embedder.preprocess(im) for im in decoded[i : i + batch_size]])
                    for i in range(0, len(decoded), batch_size)
                ]
                started = time.perf_counter()
                with torch.inference_mode():
                    for batch in batches:
                        embedder.model(batch)
                model_s = time.perf_counter() - started
                started = time.perf_counter()
                images = (image_decode(str(p), max_pixels=MAX_PIXELS) for p in paths)
                for _ in embedder.embed_many(images, batch_size=batch_size):
                    pass
                pipeline_s = time.perf_counter() - started
                print(
                    f"| {name} | {threads} | {batch_size} | {_rate(len(paths), model_s)} | "
                    f"{_rate(len(paths), pipeline_s)} | {model_s / pipeline_s:.2f} |"
                )
    large_jpeg_decode(paths[0])


def large_jpeg_decode(sample: Path, *, repeats: int = 10) -> None:
    """A 12-megapixel phone photo: decoded at reduced scale (Pillow's draft) vs in full."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.open(sample).convert("RGB").resize((4000, 3000)).save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    print(f"\n12 MP JPEG ({len(data) / 1e6:.1f} MB), decode to RGB, median of {repeats}:\n")
    print("| decode | ms | decoded size |")
    print("|---|---|---|")
    for label, kwargs in (("draft (default)", {}), ("full size", {"crop": (0, 0, 4000, 3000)})):
        times, size = [], None
        for _ in range(repeats):
            started = time.perf_counter()
            size = image_decode(io.BytesIO(data), max_pixels=MAX_PIXELS, **kwargs).size
            times.append(time.perf_counter() - started)
        print(f"| {label} | {sorted(times)[repeats // 2] * 1000:.0f} | {size[0]}x{size[1]} |")


if __name__ == "__main__":
    main()
