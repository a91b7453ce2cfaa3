"""The model alone, laid out like the workers: N processes at once, each with T torch threads, batch B.

    python -m benchmarks.model_alone --processes 2 --threads 1 --batch 4 PHOTO...

Each process decodes and preprocesses the photos first (as the workers' decode path does, not timed), says
it is ready, and on the parent's word times the forward passes over all of them. The rate is every process's
images over the time from the first start to the last end, so 2 processes × 1 thread is compared with
2 workers × 1 thread, and 1 × 2 with 1 × 2. Also reported: CPU seconds per image (the processes' own).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(photos: list[Path], *, threads: int, batch: int) -> None:
    # Torch through search.embeddings: it sets OMP_WAIT_POLICY (as in the workers) before torch loads.
    from search import embeddings

    torch = embeddings.torch
    torch.set_num_threads(threads)
    embedder = embeddings.Embedder(embeddings.BACKBONES["efficientnet_lite0"])
    tensors = [embedder.preprocess(embeddings.image_decode(str(p), max_pixels=40_000_000)) for p in photos]
    batches = [torch.stack(tensors[i : i + batch]) for i in range(0, len(tensors), batch)]
    with torch.inference_mode():
        embedder.model(batches[0])  # warm-up
        print("ready", flush=True)
        sys.stdin.readline()
        started, cpu_started = time.time(), time.process_time()
        for tensor in batches:
            embedder.model(tensor)
        ended, cpu_s = time.time(), time.process_time() - cpu_started
    print(
        json.dumps({"images": len(tensors), "started": started, "ended": ended, "cpu_s": cpu_s}), flush=True
    )


def model_alone_rate(photos: list[Path], *, processes: int, threads: int, batch: int) -> dict[str, float]:
    """{"rate": images/s of all processes together, "cpu_ms_per_image": their CPU per image}."""
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
    for process in running:  # every one loaded and preprocessed before any starts the clock
        while (line := process.stdout.readline()) and line.strip() != "ready":  # type: ignore[union-attr]
            pass
    for process in running:
        process.stdin.write("go\n")  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
    results = [json.loads(process.communicate()[0].strip().splitlines()[-1]) for process in running]
    images = sum(r["images"] for r in results)
    wall_s = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {"rate": images / wall_s, "cpu_ms_per_image": 1000 * sum(r["cpu_s"] for r in results) / images}


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
    result = model_alone_rate(args.photos, processes=args.processes, threads=args.threads, batch=args.batch)
    print(
        f"{args.processes} process(es) x {args.threads} thread(s), batch {args.batch}: {result['rate']:.1f} images/s, "
        f"{result['cpu_ms_per_image']:.0f} ms CPU per image"
    )


if __name__ == "__main__":
    main()
