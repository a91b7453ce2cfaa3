"""Load test: gunicorn with a production-style config on loopback, real photos, concurrent staff writes.

    LOOKALIKE_NEO4J_PORT_BENCH=7697 .venv/bin/python -m benchmarks.load --workers 2 --search-clients 2 --page-clients 2

Starts the bench Neo4j (`scripts/neo4j start bench`) unless NEO4J_BOLT_URL is set, imports the demo
catalog into its own SQLite file (var/bench/load.sqlite3, embedded once, then re-projected from stored
vectors), starts gunicorn on 127.0.0.1 with config.settings_production, and for --duration-s seconds runs
closed-loop clients: photo searches (POST /api/v1/search/ with real demo photos), product pages, and one
staff writer creating products with images through the token API. Then it checks that every write is
saved and synced and that `check_graph` is clean, and prints a Markdown report. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
DB_PATH = VAR / "load.sqlite3"
DEFAULT_DEMO = ROOT.parent / "shared" / "datasets" / "grocery-store"
BENCH_PORT = os.environ.get("LOOKALIKE_NEO4J_PORT_BENCH", "7689")
WRITE_NAME = "Load write"
REQUEST_TIMEOUT_S = 30


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, error: str | None) -> None:
        with self.lock:
            if error:
                self.errors[error] = self.errors.get(error, 0) + 1
            else:
                self.latencies_ms.append((time.perf_counter() - started) * 1000)

    def row(self, name: str, duration_s: float) -> str:
        q = (
            statistics.quantiles(self.latencies_ms, n=100)
            if len(self.latencies_ms) > 1
            else [float("nan")] * 99
        )
        errors = sum(self.errors.values())
        detail = f" ({', '.join(f'{k}: {v}' for k, v in self.errors.items())})" if errors else ""
        return (
            f"| {name} | {len(self.latencies_ms)} | {len(self.latencies_ms) / duration_s:.2f} | "
            f"{q[49]:.0f} / {q[94]:.0f} / {q[98]:.0f} | {errors}{detail} |"
        )


def _env(args: argparse.Namespace) -> dict[str, str]:
    password_file = ROOT / "var" / "neo4j" / "bench" / "password"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings_production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{DB_PATH}",
            "LOOKALIKE_MEDIA_ROOT": str(VAR / "media"),
            "LOOKALIKE_NEO4J_INSTANCE": "bench",
            "LOOKALIKE_SEARCH_ANON_RATE": "1000000/min",  # the anonymous throttle would cap the measurement
            # Staff writes sync in the request, as when this benchmark was written (no worker runs here).
            "LOOKALIKE_TASK_BACKEND": os.environ.get(
                "LOOKALIKE_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
            ),
            "LOOKALIKE_TORCH_THREADS": str(args.torch_threads),
        }
    )
    env.setdefault("NEO4J_BOLT_URL", f"bolt://127.0.0.1:{BENCH_PORT}")
    env.setdefault("NEO4J_PASSWORD", password_file.read_text().strip() if password_file.exists() else "")
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def catalog_prepare(env: dict[str, str], demo: Path) -> str:
    """The demo catalog in its own SQLite file and alone in the bench graph; returns a staff token."""
    VAR.mkdir(parents=True, exist_ok=True)
    _manage(env, "migrate", "--noinput")
    _manage(env, "shell", "-c", "from search.graph import graph_store; graph_store().clear()")
    _manage(
        env,
        "shell",
        "-c",
        f"from catalog.models import Product; Product.objects.filter(name__startswith={WRITE_NAME!r}).delete()",
    )
    print(_manage(env, "import_catalog", str(demo)).strip().splitlines()[-1])
    _manage(env, "sync_graph", "--all")  # the graph was cleared: re-project from the stored embeddings
    return _manage(
        env,
        "shell",
        "-c",
        (
            "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token; "
            "u, _ = get_user_model().objects.get_or_create(username='loadstaff', defaults={'is_staff': True}); "
            "print(Token.objects.get_or_create(user=u)[0].key)"
        ),
    ).split()[-1]  # the last line: app start-up may print before it


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _multipart(
    fields: dict[str, str], file_name: str, file_bytes: bytes, file_field: str
) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode()
        + file_bytes
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Client:
    def __init__(self, base: str, token: str = "") -> None:
        self.base, self.token = base, token

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, bytes]:
        # As the TLS-terminating proxy would: the production profile redirects plain HTTP.
        headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
        if content_type:
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


def _loop(stop: threading.Event, stats: Stats, call, pause_s: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    while not stop.wait(pause_s):
        started = time.perf_counter()
        try:
            status = call()
            stats.record(started, None if status < 400 else f"HTTP {status}")
        except Exception as exc:  # a benchmark counts every failure rather than dying on it
            stats.record(started, f"{exc.__class__.__name__}: {str(exc)[:80]}")
            time.sleep(0.5)


def run(args: argparse.Namespace) -> dict:
    if "NEO4J_BOLT_URL" not in os.environ:
        subprocess.run(
            ["scripts/neo4j", "start", "bench"],
            cwd=ROOT,
            check=True,
            env={**os.environ, "LOOKALIKE_NEO4J_PORT_BENCH": BENCH_PORT},
        )
    env = _env(args)  # after the start: a first start writes the bench password
    token = catalog_prepare(env, args.demo)
    rows = sqlite3.connect(DB_PATH).execute("SELECT slug FROM catalog_product").fetchall()
    slugs = [slug for (slug,) in rows]
    photos = [p.read_bytes() for p in sorted((args.demo / "train").rglob("*.jpg"))[::25][:60]]

    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        return _measure(args, env, server, base, token, slugs, photos)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def _measure(args, env, server, base, token, slugs, photos) -> dict:  # type: ignore[no-untyped-def]
    anonymous, staff = Client(base), Client(base, token)
    rng = random.Random(7)

    def search() -> int:
        body, content_type = _multipart({"k": "12"}, "query.jpg", rng.choice(photos), "image")
        return anonymous.request("POST", "/api/v1/search/", body, content_type)[0]

    def page() -> int:
        return anonymous.request("GET", f"/products/{rng.choice(slugs)}/")[0]

    written: list[int] = []

    def write() -> int:
        body = json.dumps(
            {"name": f"{WRITE_NAME} {uuid.uuid4().hex[:8]}", "price": "1.00", "category": "apple"}
        )
        status, content = staff.request("POST", "/api/v1/products/", body.encode(), "application/json")
        if status != 201:
            return status
        product_id = json.loads(content)["id"]
        upload, content_type = _multipart({}, "photo.jpg", rng.choice(photos), "image")
        status, content = staff.request(
            "POST", f"/api/v1/products/{product_id}/images/", upload, content_type
        )
        if status == 201:
            written.append(json.loads(content)["id"])
        return status

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # warm-up: every worker loads the model on its first search
        try:
            if all(search() == 200 for _ in range(args.workers * 3)):
                break
        except OSError:
            time.sleep(1)
    rss_warm = {pid: _rss_mib(pid) for pid in _children(server.pid)}

    stop = threading.Event()
    stats = {"search by photo": Stats(), "product page": Stats(), "staff write (create + image)": Stats()}
    threads = [
        threading.Thread(target=_loop, args=(stop, stats["search by photo"], search))
        for _ in range(args.search_clients)
    ]
    threads += [
        threading.Thread(target=_loop, args=(stop, stats["product page"], page))
        for _ in range(args.page_clients)
    ]
    if args.writes:  # one staff member adding a product with a photo every few seconds
        threads.append(
            threading.Thread(
                target=_loop, args=(stop, stats["staff write (create + image)"], write, args.write_pause_s)
            )
        )
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(args.duration_s)
    stop.set()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S * 2)
    duration_s = time.monotonic() - started
    rss = {pid: _rss_mib(pid) for pid in _children(server.pid)}

    statuses = (
        sqlite3.connect(DB_PATH)
        .execute(
            "SELECT i.sync_status, count(*) FROM catalog_productimage i JOIN catalog_product p ON p.id = i.product_id "
            "WHERE p.name LIKE ? GROUP BY i.sync_status",
            (f"{WRITE_NAME}%",),
        )
        .fetchall()
    )
    check = subprocess.run(
        [sys.executable, "manage.py", "check_graph"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    report = [
        f"gunicorn {args.workers} sync workers, torch threads per worker {args.torch_threads}, "
        f"{args.search_clients} search + {args.page_clients} page clients{' + 1 staff writer' if args.writes else ''}, "
        f"{duration_s:.0f} s",
        "",
        "| request | count | per second | p50 / p95 / p99 ms | errors |",
        "|---|---|---|---|---|",
        *(s.row(name, duration_s) for name, s in stats.items()),
        "",
        f"RSS per worker after warm-up (MiB): {', '.join(f'{v:.0f}' for v in rss_warm.values())}; "
        f"at the end: {', '.join(f'{v:.0f}' for v in rss.values())}",
        f"Staff writes: {len(written)} images uploaded; sync status in the DB: {dict(statuses)}; "
        f"check_graph exit {check.returncode}",
    ]
    print("\n".join(report))
    if check.returncode:
        print(check.stdout, check.stderr)
    return {"ok": check.returncode == 0 and not any(s.errors for s in stats.values())}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--search-clients", type=int, default=2)
    parser.add_argument("--page-clients", type=int, default=2)
    parser.add_argument("--duration-s", type=float, default=60)
    parser.add_argument("--no-writes", dest="writes", action="store_false")
    parser.add_argument("--write-pause-s", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument(
        "--demo", type=Path, default=Path(os.environ.get("LOOKALIKE_GROCERY_DIR", DEFAULT_DEMO))
    )
    result = run(parser.parse_args())
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
