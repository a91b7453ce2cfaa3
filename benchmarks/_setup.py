"""Shared set-up for benchmarks that run Django on a throwaway database and the bench Neo4j.

`django_temp()` must run before any app module is imported: it points DATABASE_URL and
LOOKALIKE_MEDIA_ROOT at a new folder under /tmp (removed at exit), so a benchmark never touches the
development database or media, and selects the bench Neo4j instance unless told otherwise.
"""

from __future__ import annotations

import argparse
import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import django

DEFAULT_DATASET = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "grocery-store"
SHOP_PHOTOS_PER_PRODUCT = 3
IMMEDIATE_TASK_BACKEND = "django_tasks.backends.immediate.ImmediateBackend"


def django_temp(name: str, *, keep_database_url: bool = False) -> Path:
    """`keep_database_url`: the caller already pointed DATABASE_URL at a throwaway database."""
    workdir = Path(tempfile.mkdtemp(prefix=f"lookalike-{name}-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    if not keep_database_url:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    os.environ["LOOKALIKE_MEDIA_ROOT"] = str(workdir / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOOKALIKE_NEO4J_INSTANCE", "bench")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    # These benchmarks time the in-process path (the work right after commit); benchmarks/ingestion.py the queue.
    os.environ.setdefault("LOOKALIKE_TASK_BACKEND", IMMEDIATE_TASK_BACKEND)
    django.setup()
    return workdir


def postgres_temp_database() -> None:
    """A throwaway database in the local cluster, named for this run, dropped at exit."""
    import psycopg

    password = (Path(__file__).resolve().parents[1] / "var" / "postgres" / "password").read_text().strip()
    port = os.environ.get("LOOKALIKE_POSTGRES_PORT", "54329")
    admin_url = f"postgres://lookalike:{password}@127.0.0.1:{port}/lookalike"  # as config/settings.py
    name = f"lookalike_insights_size_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    os.environ["DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + f"/{name}"


def arguments_with_dataset(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dataset", type=Path, default=DEFAULT_DATASET, help="the Grocery Store dataset folder"
    )
    return parser


def database_migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def demo_import(dataset: Path) -> None:
    """Empty graph and catalog, then the demo catalog through the real command."""
    from django.core.management import call_command

    from catalog.models import Category, Product
    from search.graph import graph_store
    from search.serving import serving_forget
    from search.tasks import sync_deferred

    graph_store().clear()
    with sync_deferred():  # the graph is cleared already; no per-product unindexing
        Product.objects.all().delete()
        Category.objects.all().delete()
    serving_forget()
    call_command("import_catalog", str(dataset), "--shop-photos", str(SHOP_PHOTOS_PER_PRODUCT))
