"""Bulk ingestion through the queue, end to end, against the model alone; then staff write latency.

    scripts/postgres start && scripts/neo4j start bench
    .venv/bin/python -m benchmarks.ingestion --photos 10000 [--workers 1,2] [--dataset DIR]

The demo photos are repeated with distinct small edits (a crop of a few pixels, re-encoded) until there are
`--photos` of them, listed in a CSV (one product per fine-grained class and repeat). For each worker count:
a fresh database `lookalike_bench` on the local PostgreSQL, the bench Neo4j cleared, the workers started,
then `import_catalog` (which queues each row's sync as it commits) timed until every image is synced and the
queue is empty, i.e. embedded, written to Neo4j and its product's SIMILAR_TO refreshed. The model alone runs
on a sample of the same photos, preprocessed beforehand, at the same batch size and thread count.
Then `benchmarks/ingestion_latency.py` times staff writes through the API, queue against immediate.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "grocery-store"
BENCH_DB = "lookalike_bench"
BATCH_LOG = re.compile(r"embed (?P<embed>[\d.]+)s, write (?P<write>[\d.]+)s, similar (?P<similar>[\d.]+)s")


def photos_make(dataset: Path, count: int, folder: Path) -> Path:
    """`count` distinct JPEGs from the demo photos (repeat r is cropped by r pixels), and their CSV."""
    from PIL import Image

    sources = sorted((dataset / "train").rglob("*.jpg"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "catalog.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "name", "category", "price"])
        for n in range(count):
            source, repeat = sources[n % len(sources)], n // len(sources)
            name = f"p{n:06d}.jpg"
            with Image.open(source) as image:
                if repeat:
                    image = image.crop((repeat, repeat, image.width - repeat, image.height - repeat))
                image.convert("RGB").save(folder / name, "JPEG", quality=90)
            label, coarse = source.parent.name, source.parent.parent.name
            writer.writerow([name, f"{label} {repeat + 1}", coarse, "1.00"])
    return csv_path


def model_alone(photos: list[Path], *, batch_size: int, threads: int) -> float:
    """Images/s of the model's forward pass only, on preprocessed tensors."""
    import torch

    from search.embeddings import BACKBONES, Embedder, image_decode

    torch.set_num_threads(threads)
    embedder = Embedder(BACKBONES["efficientnet_lite0"])
    tensors = [embedder.preprocess(image_decode(str(p), max_pixels=40_000_000)) for p in photos]
    batches = [torch.stack(tensors[i : i + batch_size]) for i in range(0, len(tensors), batch_size)]
    with torch.inference_mode():
        embedder.model(batches[0])  # warm-up
        started = time.perf_counter()
        for batch in batches:
            embedder.model(batch)
    return len(tensors) / (time.perf_counter() - started)


def _admin_url() -> str:
    password = (ROOT / "var" / "postgres" / "password").read_text().strip()
    return f"postgres://lookalike:{password}@127.0.0.1:{os.environ.get('LOOKALIKE_POSTGRES_PORT', '54329')}"


def database_recreate() -> str:
    with psycopg.connect(f"{_admin_url()}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")
    return f"{_admin_url()}/{BENCH_DB}"


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, **kwargs)


def manage_ok(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _counts(url: str) -> tuple[int, int, int]:
    """(images, images synced, unfinished tasks)."""
    with psycopg.connect(url) as connection:
        images, synced = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE sync_status = 'synced') FROM catalog_productimage"
        ).fetchone()
        (unfinished,) = connection.execute(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')"
        ).fetchone()
    return images, synced, unfinished


def ingest(
    folder: Path, csv_path: Path, *, workers: int, threads: int, batch: int, env: dict[str, str]
) -> dict:
    url = database_recreate()
    env = {
        **env,
        "DATABASE_URL": url,
        "LOOKALIKE_MEDIA_ROOT": tempfile.mkdtemp(prefix="lookalike-ingest-media-"),
        "LOOKALIKE_TORCH_THREADS": str(max(threads // workers, 1)),
        "LOOKALIKE_WORKER_BATCH": str(batch),
    }
    manage_ok(env, "migrate", "--noinput")
    manage_ok(env, "shell", "-c", "from search.graph import graph_store; graph_store().clear()")
    manage_ok(env, "setup_graph")
    logs = [Path(tempfile.mkstemp(prefix=f"lookalike-worker{n}-", suffix=".log")[1]) for n in range(workers)]
    running = [
        manage(
            env,
            "sync_worker",
            "--worker-id",
            f"bench{n}",
            "--idle-sleep-s",
            "0.2",
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for n, log in enumerate(logs)
    ]
    try:
        started = time.perf_counter()
        importer = manage(
            env,
            "import_catalog",
            str(folder),
            "--csv",
            str(csv_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import_s = None
        while True:
            time.sleep(0.5)
            if import_s is None and importer.poll() is not None:
                import_s = time.perf_counter() - started
                if importer.returncode:
                    raise SystemExit("import_catalog failed")
            if import_s is not None:
                images, synced, unfinished = _counts(url)
                if synced + 0 >= images and not unfinished:
                    break
                if not unfinished and synced < images:
                    raise SystemExit(f"queue empty but only {synced}/{images} synced")
        total_s = time.perf_counter() - started
    finally:
        for worker in running:
            worker.terminate()
        for worker in running:
            worker.wait(timeout=120)
    spent = {"embed": 0.0, "write": 0.0, "similar": 0.0}
    for log in logs:
        for match in BATCH_LOG.finditer(log.read_text()):
            for part in spent:
                spent[part] += float(match[part])
    check = subprocess.run(
        [sys.executable, "manage.py", "check_graph"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return {
        "workers": workers,
        "images": images,
        "import_s": import_s,
        "total_s": total_s,
        "check_graph": check.returncode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch threads in all: one worker gets them all"
    )
    parser.add_argument("--batch", type=int, default=32, help="images a worker claims at once")
    parser.add_argument("--model-sample", type=int, default=1000, help="photos the model alone is timed on")
    parser.add_argument("--latency-samples", type=int, default=20)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("LOOKALIKE_NEO4J_INSTANCE", "bench")
    env = {k: v for k, v in os.environ.items() if k != "LOOKALIKE_TASK_BACKEND"}
    workdir = Path(tempfile.mkdtemp(prefix="lookalike-ingest-"))
    print(f"load average before: {os.getloadavg()}", flush=True)
    started = time.perf_counter()
    csv_path = photos_make(args.dataset, args.photos, workdir / "photos")
    print(f"{args.photos} photos made in {time.perf_counter() - started:.0f}s", flush=True)

    from search.embeddings import DEFAULT_BATCH_SIZE

    sample = random.Random(0).sample(
        sorted((workdir / "photos").glob("*.jpg")), min(args.model_sample, args.photos)
    )
    model_rate = model_alone(sample, batch_size=DEFAULT_BATCH_SIZE, threads=args.threads)
    model_rate_1 = model_alone(sample, batch_size=DEFAULT_BATCH_SIZE, threads=1)
    print(
        f"model alone, batch {DEFAULT_BATCH_SIZE}: {model_rate:.1f} images/s with {args.threads} threads, "
        f"{model_rate_1:.1f} with 1 ({len(sample)} photos)",
        flush=True,
    )

    print(
        "\n| workers | torch threads each | photos | import_catalog done (s) | all synced (s) | images/s end to end | / model alone | check_graph |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for workers in (int(w) for w in args.workers.split(",")):
        result = ingest(
            workdir / "photos", csv_path, workers=workers, threads=args.threads, batch=args.batch, env=env
        )
        rate = result["images"] / result["total_s"]
        print(
            f"| {workers} | {max(args.threads // workers, 1)} | {result['images']} | {result['import_s']:.0f} | "
            f"{result['total_s']:.0f} | {rate:.1f} | {rate / model_rate:.2f} | "
            f"{'clean' if result['check_graph'] == 0 else 'DRIFT'} |",
            flush=True,
        )
        spent = result["spent"]
        print(
            f"  worker time, all workers: embed (read, decode, model) {spent['embed']:.0f}s, Neo4j node writes "
            f"{spent['write']:.0f}s, SIMILAR_TO upkeep {spent['similar']:.0f}s",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()}", flush=True)

    latency = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.ingestion_latency",
            "--samples",
            str(args.latency_samples),
            "--dataset",
            str(args.dataset),
        ],
        cwd=ROOT,
        env={**env, "DATABASE_URL": database_recreate()},
        check=False,
    )
    raise SystemExit(latency.returncode)


if __name__ == "__main__":
    main()
