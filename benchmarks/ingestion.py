"""Bulk ingestion through the queue, end to end, against the model alone; then staff write latency.

    scripts/postgres start && scripts/neo4j start bench
    .venv/bin/python -m benchmarks.ingestion --photos 10000 [--workers 1,2] [--dataset DIR]

The demo photos are repeated with distinct small edits (a crop of a few pixels, re-encoded) until there are
`--photos` of them, listed in a CSV (one product per fine-grained class and repeat). For each worker count:
a fresh database `lookalike_bench` on the local PostgreSQL, the bench Neo4j cleared, the workers started,
then `import_catalog` (which queues each row's sync as it commits) timed until every image is synced and the
queue is empty, i.e. embedded, written to Neo4j and its product's SIMILAR_TO refreshed. The model alone runs
on a sample of the same photos at the same batch size and thread count, laid out like the workers, measured
two ways (benchmarks/model_alone.py): on the photos (read, decode, preprocess and forward, decoding ahead as
the workers do), and forward only on tensors preprocessed beforehand, just before each run; on the photos
again just after it, so the ratio is given against both and their mean. The sweep at the start is forward only.
Then `benchmarks/ingestion_latency.py` times staff writes through the API, queue against immediate.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from benchmarks._cpu import cpu_s, machine_busy_s, tree_cpu_s
from benchmarks.model_alone import model_alone_rate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "grocery-store"
BENCH_DB = "lookalike_bench"
BATCH_LOG = re.compile(
    r"embed (?P<embed>[\d.]+)s, write (?P<write>[\d.]+)s, similar (?P<similar>[\d.]+)s, "
    r"queue (?P<queue>[\d.]+)s(?:; (?P<refreshed>\d+) SIMILAR_TO refreshed)?"
)


def photos_make(dataset: Path, count: int, folder: Path) -> Path:
    """`count` distinct JPEGs from the demo photos (repeat r is cropped by r pixels), and their CSV.
    A folder that already holds them (an earlier invocation's) is used as it is."""
    from PIL import Image

    csv_path = folder / "catalog.csv"
    if csv_path.exists() and sum(1 for _ in csv_path.open()) == count + 1:
        return csv_path
    sources = sorted((dataset / "train").rglob("*.jpg"))
    folder.mkdir(parents=True, exist_ok=True)
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


def model_alone(
    photos: list[Path], *, batch_sizes: list[int], threads: list[int]
) -> dict[tuple[int, int], float]:
    """Images/s of the model's forward pass only, on preprocessed tensors: {(batch size, threads): rate}."""
    # search.embeddings first: it sets OMP_WAIT_POLICY (as in the workers) before torch loads.
    from search.backbones import BACKBONES
    from search.embeddings import Embedder, image_decode

    embedder = Embedder(BACKBONES["efficientnet_lite0"])
    import torch

    tensors = [embedder.preprocess(image_decode(str(p), max_pixels=40_000_000)) for p in photos]
    rates = {}
    for thread_count in threads:
        torch.set_num_threads(thread_count)
        for batch_size in batch_sizes:
            batches = [torch.stack(tensors[i : i + batch_size]) for i in range(0, len(tensors), batch_size)]
            with torch.inference_mode():
                embedder.model(batches[0])  # warm-up
                started = time.perf_counter()
                for batch in batches:
                    embedder.model(batch)
            rates[(batch_size, thread_count)] = len(tensors) / (time.perf_counter() - started)
    return rates


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


def _server_pids(env: dict[str, str]) -> dict[str, int]:
    """The bench Neo4j's JVM and the local PostgreSQL's postmaster (their CPU is counted per run)."""
    neo4j = (
        ROOT / "var" / "neo4j" / env.get("LOOKALIKE_NEO4J_INSTANCE", "bench") / "run" / "lookalike-neo4j.pid"
    )
    postgres = ROOT / "var" / "postgres" / "data" / "postmaster.pid"
    return {
        name: int(path.read_text().split()[0])
        for name, path in (("neo4j", neo4j), ("postgres", postgres))
        if path.exists()
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ingest(
    folder: Path,
    csv_path: Path,
    *,
    workers: int,
    threads: int,
    batch: int,
    env: dict[str, str],
    max_s: float,
) -> dict:
    """Time the import until every image is synced, or stop at `max_s` (then the rate is over those synced)."""
    url = database_recreate()
    env = {
        **env,
        # As deployed: DEBUG would keep every SQL query in memory and format it (measured ~2-3% of the import).
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": env.get("DJANGO_SECRET_KEY") or "benchmark-only-not-secret",
        "DATABASE_URL": url,
        "LOOKALIKE_MEDIA_ROOT": tempfile.mkdtemp(prefix="lookalike-ingest-media-"),
        "LOOKALIKE_TORCH_THREADS": str(max(threads // workers, 1)),
        "LOOKALIKE_WORKER_BATCH": str(batch),
    }
    manage_ok(env, "migrate", "--noinput")
    # A cleared graph with its indexes dropped too: setup_graph makes them with today's settings (quantisation).
    manage_ok(
        env,
        "shell",
        "-c",
        "from django.conf import settings; from search.graph import graph_store; store = graph_store(); "
        "store.clear(); store.model_drop(settings.LOOKALIKE_BACKBONE)",
    )
    manage_ok(env, "setup_graph")
    exact = manage_ok(
        env,
        "shell",
        "-c",
        "from django.conf import settings; from search.graph import graph_store; "
        "print(graph_store().vector_index_exact(settings.LOOKALIKE_BACKBONE))",
    ).split()[-1]
    print(f"  vector index unquantised (scores exact, no rescoring): {exact}", flush=True)
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
    importer = None
    servers = _server_pids(env)
    cpu_before = {name: tree_cpu_s(pid) for name, pid in servers.items()}
    cpu_before.update({f"worker {n}": cpu_s(w.pid) for n, w in enumerate(running)})
    cpu_before["machine"] = machine_busy_s()
    cpu_after: dict[str, float] = {}
    try:
        children_before = _children_cpu_s()  # the importer is the only child reaped until it ends
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
        stopped = False
        next_report = time.perf_counter() + 60
        while True:
            time.sleep(1)
            now = time.perf_counter()
            if now >= next_report:
                images, synced, unfinished = _counts(url)
                print(f"  {now - started:.0f}s: {images} imported, {synced} synced", flush=True)
                next_report = now + 60
            if now - started > max_s:
                images, synced, unfinished = _counts(url)
                stopped = True
                if importer.poll() is None:
                    cpu_after["import_catalog"] = cpu_s(importer.pid)
                importer.terminate()
                importer.wait()
                break
            if import_s is None and importer.poll() is not None:
                import_s = time.perf_counter() - started
                cpu_after["import_catalog"] = _children_cpu_s() - children_before
                if importer.returncode:
                    raise SystemExit("import_catalog failed")
            if import_s is not None:
                images, synced, unfinished = _counts(url)
                if synced + 0 >= images and not unfinished:
                    break
                if not unfinished and synced < images:
                    raise SystemExit(f"queue empty but only {synced}/{images} synced")
        total_s = time.perf_counter() - started
        cpu_after.update({f"worker {n}": cpu_s(w.pid) for n, w in enumerate(running)})
        cpu_after.update({name: tree_cpu_s(pid) for name, pid in servers.items()})
        cpu_after["machine"] = machine_busy_s()
    finally:
        if importer is not None and importer.poll() is None:
            importer.terminate()
        for worker in running:
            worker.terminate()
        for worker in running:
            worker.wait(timeout=120)
    spent = {"embed": 0.0, "write": 0.0, "similar": 0.0, "queue": 0.0, "refreshed": 0.0, "batches": 0.0}
    for log in logs:
        # What the worker says it runs (threads, forward-pass batch), to compare with the model alone's.
        print("  " + next((line for line in log.read_text().splitlines() if "torch thread" in line), ""))
        for match in BATCH_LOG.finditer(log.read_text()):
            spent["batches"] += 1
            for part in ("embed", "write", "similar", "queue", "refreshed"):
                spent[part] += float(match[part] or 0)
    with psycopg.connect(url) as connection:
        (products,) = connection.execute("SELECT count(*) FROM catalog_product").fetchone()
    check = (
        None
        if stopped
        else subprocess.run(
            [sys.executable, "manage.py", "check_graph"], cwd=ROOT, env=env, capture_output=True, text=True
        )
    )
    return {
        "workers": workers,
        "images": images,
        "synced": synced,
        "stopped": stopped,
        "import_s": import_s,
        "total_s": total_s,
        "check_graph": None if check is None else check.returncode,
        "spent": spent,
        "products": products,
        "cpu_s": {name: value - cpu_before.get(name, 0.0) for name, value in cpu_after.items()},
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
    parser.add_argument("--model-batches", default="4,8,16", help="batch sizes the model alone is timed at")
    parser.add_argument(
        "--max-minutes",
        default="25",
        help="stop a run here and report the rate over what synced; one per worker count (the last repeats)",
    )
    parser.add_argument("--latency-only", action="store_true", help="only the staff write latency")
    parser.add_argument("--latency-samples", type=int, default=20, help="0: no staff write latency")
    parser.add_argument(
        "--photos-dir", type=Path, help="where the photos are made, or found made by an earlier invocation"
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("LOOKALIKE_NEO4J_INSTANCE", "bench")
    env = {k: v for k, v in os.environ.items() if k != "LOOKALIKE_TASK_BACKEND"}
    if args.latency_only:
        raise SystemExit(latency_run(args, env))
    photos_dir = args.photos_dir or Path(tempfile.mkdtemp(prefix="lookalike-ingest-")) / "photos"
    print(f"load average before: {os.getloadavg()}", flush=True)
    started = time.perf_counter()
    csv_path = photos_make(args.dataset, args.photos, photos_dir)
    print(f"{args.photos} photos made in {time.perf_counter() - started:.0f}s", flush=True)

    from search.embeddings import DEFAULT_BATCH_SIZE

    sample = random.Random(0).sample(sorted(photos_dir.glob("*.jpg")), min(args.model_sample, args.photos))
    # The worker embeds at DEFAULT_BATCH_SIZE; the sweep shows whether that is still the best here and now.
    rates = model_alone(
        sample,
        batch_sizes=sorted({DEFAULT_BATCH_SIZE, *(int(b) for b in args.model_batches.split(","))}),
        threads=sorted({args.threads, 1}),
    )
    print("\nModel alone (forward pass on preprocessed photos), images/s:\n")
    print("| torch threads | " + " | ".join(f"batch {b}" for b, t in rates if t == args.threads) + " |")
    print("|---|" + "---|" * sum(1 for _, t in rates if t == args.threads))
    for threads in sorted({t for _, t in rates}):
        print(
            f"| {threads} | " + " | ".join(f"{r:.1f}" for (b, t), r in rates.items() if t == threads) + " |"
        )
    model_rate = rates[(DEFAULT_BATCH_SIZE, args.threads)]
    print(
        f"\nmodel alone, batch {DEFAULT_BATCH_SIZE} (the workers'), {args.threads} threads: {model_rate:.1f} images/s "
        f"({len(sample)} photos)",
        flush=True,
    )

    print(
        "\n| workers | torch threads each | photos | import_catalog done (s) | all synced (s) | images/s end to end "
        "| model alone, same layout, on the photos / forward only (images/s) | / model alone, same layout "
        "(on the photos / forward only) | / model alone (forward only) 1 x "
        f"{args.threads} | check_graph |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    worker_counts = [int(w) for w in args.workers.split(",")]
    caps = [float(m) for m in args.max_minutes.split(",")]
    for run, workers in enumerate(worker_counts):
        max_minutes = caps[min(run, len(caps) - 1)]
        # Just before the run: the model alone as the workers are laid out (N processes × threads each).
        layout = model_alone_rate(
            sample, processes=workers, threads=max(args.threads // workers, 1), batch=DEFAULT_BATCH_SIZE
        )
        alike, in_turn, forward = layout["photos"], layout["photos_in_turn"], layout["forward"]
        print(
            f"  model alone, {workers} process(es) x {max(args.threads // workers, 1)} thread(s), batch "
            f"{DEFAULT_BATCH_SIZE}: on the photos (read, decode, preprocess, forward) {alike['rate']:.1f} "
            f"images/s, {alike['cpu_ms_per_image']:.0f} ms CPU per image; the same in turn, no decode-ahead "
            f"thread, {in_turn['rate']:.1f} images/s, {in_turn['cpu_ms_per_image']:.0f} ms; forward only {forward['rate']:.1f} "
            f"images/s, {forward['cpu_ms_per_image']:.0f} ms; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        result = ingest(
            photos_dir,
            csv_path,
            workers=workers,
            threads=args.threads,
            batch=args.batch,
            env=env,
            max_s=max_minutes * 60,
        )
        rate = result["synced"] / result["total_s"]
        # And just after: on this shared machine the model alone moves by ~10% within minutes (two baselines
        # 4 minutes apart, 61.3 and 55.6 images/s, 2026-12-07 23:45), as much as the ratio's distance to 0.8.
        after = model_alone_rate(
            sample, processes=workers, threads=max(args.threads // workers, 1), batch=DEFAULT_BATCH_SIZE
        )["photos"]
        between = (alike["rate"] + after["rate"]) / 2
        print(
            f"  model alone, same layout, just after: on the photos {after['rate']:.1f} images/s, "
            f"{after['cpu_ms_per_image']:.0f} ms CPU per image; end to end / model alone on the photos: before "
            f"{rate / alike['rate']:.2f}, after {rate / after['rate']:.2f}, their mean ({between:.1f}) "
            f"{rate / between:.2f}; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        import_done = "not done" if result["import_s"] is None else f"{result['import_s']:.0f}"
        outcome = (
            f"stopped at {max_minutes:g} min: {result['synced']} of {result['images']} imported synced"
            if result["stopped"]
            else ("clean" if result["check_graph"] == 0 else "DRIFT")
        )
        print(
            f"| {workers} | {max(args.threads // workers, 1)} | {result['images']} | {import_done} | "
            f"{result['total_s']:.0f} | {rate:.1f} | {alike['rate']:.1f} / {forward['rate']:.1f} | "
            f"{rate / alike['rate']:.2f} / {rate / forward['rate']:.2f} | {rate / model_rate:.2f} | {outcome} |",
            flush=True,
        )
        spent = result["spent"]
        print(
            f"  worker time, all workers: embed (read, decode, model) {spent['embed']:.0f}s, Neo4j node writes "
            f"{spent['write']:.0f}s, SIMILAR_TO upkeep {spent['similar']:.0f}s, queue and bookkeeping "
            f"{spent['queue']:.0f}s; {spent['batches']:.0f} batches, {spent['refreshed']:.0f} SIMILAR_TO refreshes "
            f"for {result['products']} products",
            flush=True,
        )
        print(f"  {cpu_report(result['cpu_s'], result['total_s'])}", flush=True)
        if result["synced"]:
            per_image = {k: 1000 * v / result["synced"] for k, v in result["cpu_s"].items() if k != "machine"}
            print(
                "  CPU ms per image synced: " + ", ".join(f"{k} {v:.0f}" for k, v in per_image.items()),
                f"(model alone, same layout: {alike['cpu_ms_per_image']:.0f} on the photos, "
                f"{forward['cpu_ms_per_image']:.0f} forward only); load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()}", flush=True)
    if not args.latency_samples:
        return
    raise SystemExit(latency_run(args, env))


def cpu_report(cpu: dict[str, float], wall_s: float) -> str:
    """CPU seconds per process over the run, and the rest of the machine (other users' work included)."""
    ours = sum(value for name, value in cpu.items() if name != "machine")
    parts = [f"{name} {value:.0f}s" for name, value in cpu.items() if name != "machine"]
    machine = cpu.get("machine", 0.0)
    return (
        f"CPU over {wall_s:.0f}s: "
        + ", ".join(parts)
        + f"; everything else on the machine {machine - ours:.0f}s "
        f"(machine busy {machine:.0f}s of {wall_s * (os.cpu_count() or 1):.0f}s)"
    )


def latency_run(args: argparse.Namespace, env: dict[str, str]) -> int:
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
    return latency.returncode


if __name__ == "__main__":
    main()
