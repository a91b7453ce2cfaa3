"""The model alone, laid out like the workers: N processes at once, each with T torch threads, batch B.

    python -m benchmarks.model_alone --processes 2 --threads 1 --batch 4 PHOTO...

Two measures, each timed with every process started together (the parent's word), so 2 processes × 1 thread
are compared with 2 workers × 1 thread, and 1 × 2 with 1 × 2:

- **on the photos**: read each file, decode it (`image_decode`, as the workers do), preprocess it and run the
  forward passes, with the next photos read, decoded and preprocessed in a background thread while the model
  runs (`search.ingest.decode_ahead`, as the workers do). This is "the model alone on the same photos": what
  a worker would do if it had no queue, no database and no graph to write to.
- **on the photos, in turn**: the same without the background thread (each batch read, decoded and
  preprocessed, then the model): shows what the thread costs or gains beside the model.
- **forward only**: the forward passes on tensors decoded and preprocessed beforehand (not timed), the
  model's own ceiling.

The rate is every process's images over the time from the first start to the last end. Also reported: the
processes' own CPU seconds per image.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ("photos", "photos_in_turn", "forward")
MAX_PIXELS = 40_000_000


def _timed(run) -> dict[str, float]:  # type: ignore[no-untyped-def]
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu_started = time.time(), time.process_time()
    images = run()
    return {
        "images": images,
        "started": started,
        "ended": time.time(),
        "cpu_s": time.process_time() - cpu_started,
    }


def child(photos: list[Path], *, threads: int, batch: int) -> None:
    # Torch through search.embeddings: it sets OMP_WAIT_POLICY (as in the workers) before torch loads.
    import io

    from search import embeddings
    from search.backbones import BACKBONES
    from search.ingest.decode_ahead import computed_ahead

    torch = embeddings.torch
    torch.set_num_threads(threads)
    embedder = embeddings.Embedder(BACKBONES["efficientnet_lite0"])

    def tensor_of(photo: Path):  # type: ignore[no-untyped-def]
        return embedder.preprocess(
            embeddings.image_decode(io.BytesIO(photo.read_bytes()), max_pixels=MAX_PIXELS)
        )

    def on_photos() -> int:
        tensors = computed_ahead(photos, tensor_of, depth=2 * batch)
        return sum(len(vectors) for vectors in embedder.embed_preprocessed(tensors, batch_size=batch))

    tensors = [tensor_of(p) for p in photos]
    batches = [torch.stack(tensors[i : i + batch]) for i in range(0, len(tensors), batch)]

    def photos_in_turn() -> int:  # no decode-ahead thread: read, decode, preprocess, then the model, in turn
        tensors = map(tensor_of, photos)
        return sum(len(vectors) for vectors in embedder.embed_preprocessed(tensors, batch_size=batch))

    def forward_only() -> int:
        for tensor in batches:
            embedder.model(tensor)
        return len(tensors)

    with torch.inference_mode():
        embedder.model(batches[0])  # warm-up
        for measure in MEASURES:
            run = {"photos": on_photos, "photos_in_turn": photos_in_turn, "forward": forward_only}[measure]
            result = _timed(run)
            print(json.dumps({"measure": measure, **result}), flush=True)


def _rate(results: list[dict]) -> dict[str, float]:
    images = sum(r["images"] for r in results)
    wall_s = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {"rate": images / wall_s, "cpu_ms_per_image": 1000 * sum(r["cpu_s"] for r in results) / images}


def model_alone_rate(
    photos: list[Path], *, processes: int, threads: int, batch: int
) -> dict[str, dict[str, float]]:
    """{"photos" | "photos_in_turn" | "forward": {"rate": images/s of all processes together, "cpu_ms_per_image": their CPU}}."""
    command = [sys.executable, "-m", "benchmarks.model_alone", "--child", "--threads", str(threads)]
    running = [
        subprocess.Popen(
            [*command, "--batch", str(batch), *map(str, photos)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    rates = {}
    for measure in MEASURES:
        for process in running:  # every one ready before any starts the clock
            while (line := process.stdout.readline()) and line.strip() != "ready":  # type: ignore[union-attr]
                pass
        for process in running:
            process.stdin.write("go\n")  # type: ignore[union-attr]
            process.stdin.flush()  # type: ignore[union-attr]
        results = []
        for process in running:
            while not (line := process.stdout.readline()).startswith("{"):  # type: ignore[union-attr]
                if not line:
                    raise SystemExit(f"model alone child exited ({process.wait()})")
            results.append(json.loads(line))
        rates[measure] = _rate(results)
    for process in running:
        process.wait()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("photos", nargs="+", type=Path)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.photos, threads=args.threads, batch=args.batch)
        return
    rates = model_alone_rate(args.photos, processes=args.processes, threads=args.threads, batch=args.batch)
    for measure, result in rates.items():
        print(
            f"{args.processes} process(es) x {args.threads} thread(s), batch {args.batch}, {measure}: "
            f"{result['rate']:.1f} images/s, {result['cpu_ms_per_image']:.0f} ms CPU per image"
        )


if __name__ == "__main__":
    main()
