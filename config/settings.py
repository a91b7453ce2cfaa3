"""Lookalike settings, all from environment variables with safe local defaults.

Local development: SQLite and the Neo4j that `scripts/neo4j start` runs on 127.0.0.1.
Production: set DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and NEO4J_* (see README).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LOOKALIKE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "catalog",
    "search",
    "insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "insights.middleware.AnonymousSessionMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _local_postgres_url() -> str:
    """The PostgreSQL that `scripts/postgres start` runs on 127.0.0.1, with its generated password."""
    password_file = VAR_DIR / "postgres" / "password"
    if not password_file.exists():
        raise ImproperlyConfigured("LOOKALIKE_DATABASE=local-postgres: run `scripts/postgres start` first.")
    port = os.environ.get("LOOKALIKE_POSTGRES_PORT", "54329")
    return f"postgres://lookalike:{password_file.read_text().strip()}@127.0.0.1:{port}/lookalike"


# DATABASE_URL wins; LOOKALIKE_DATABASE=local-postgres (make test's second pass) uses the local cluster; else SQLite.
_database_url = os.environ.get("DATABASE_URL") or (
    _local_postgres_url()
    if os.environ.get("LOOKALIKE_DATABASE") == "local-postgres"
    else f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
)
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and a worker share the file: wait for each other's write locks instead of failing at once.
    # IMMEDIATE: a transaction takes the write lock when it begins. A deferred one that reads, then writes while
    # another holds the lock fails at once ("database is locked": SQLite does not wait there), and a reopened
    # connection drops the EXCLUSIVE mode django-tasks-db sets on it (tests/search/ingest/test_sqlite_concurrency.py).
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("LOOKALIKE_MEDIA_ROOT", VAR_DIR / "media"))
# Product photos are read and written only through this storage, so workers on other machines see the same
# files: a shared MEDIA_ROOT (NFS), or another Django storage backend (e.g. django-storages' S3Storage,
# configured by its own environment variables).
STORAGES = {
    "default": {
        "BACKEND": os.environ.get("LOOKALIKE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads (search photos and product images).
LOOKALIKE_MAX_UPLOAD_BYTES = int(os.environ.get("LOOKALIKE_MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
# Pillow refuses images above this many pixels (decompression bombs).
LOOKALIKE_MAX_IMAGE_PIXELS = int(os.environ.get("LOOKALIKE_MAX_IMAGE_PIXELS", 40_000_000))

# --- Embedding and similarity -------------------------------------------------------------
LOOKALIKE_BACKBONE = os.environ.get("LOOKALIKE_BACKBONE", "efficientnet_lite0")
# Torch intra-op threads; 0 means one per core.
LOOKALIKE_TORCH_THREADS = int(os.environ.get("LOOKALIKE_TORCH_THREADS", "0"))
# SIMILAR_TO: each product keeps at most this many neighbours with cosine similarity >= threshold.
LOOKALIKE_SIMILAR_K = int(os.environ.get("LOOKALIKE_SIMILAR_K", "8"))
LOOKALIKE_SIMILAR_MIN_SCORE = float(os.environ.get("LOOKALIKE_SIMILAR_MIN_SCORE", "0.3"))
LOOKALIKE_SEARCH_K = int(os.environ.get("LOOKALIKE_SEARCH_K", "12"))
# Raw backbone cosine at or above which another product's image counts as a near-duplicate (admin warning),
# whatever fit is served (search/duplicates.py); measured on the demo data by benchmarks/near_duplicates.py,
# see docs/benchmarks.md.
LOOKALIKE_NEAR_DUPLICATE_MIN_SCORE = float(os.environ.get("LOOKALIKE_NEAR_DUPLICATE_MIN_SCORE", "0.88"))
# SIMILAR_TO's threshold while a catalog projection is served (its cosines have another scale; measured in
# docs/benchmarks.md, "Catalog projection").
LOOKALIKE_PROJECTED_SIMILAR_MIN_SCORE = float(os.environ.get("LOOKALIKE_PROJECTED_SIMILAR_MIN_SCORE", "0.1"))

# --- Graph store: Neo4j through its driver --------------------------------------------------
LOOKALIKE_GRAPH_STORE = os.environ.get("LOOKALIKE_GRAPH_STORE", "search.graph.neo4j_store.Neo4jGraphStore")
# Without NEO4J_BOLT_URL, the local server that `scripts/neo4j start INSTANCE` runs: "dev" for the app,
# "test" for the test suite, "bench" for benchmarks, so neither ever wipes the demo graph.
NEO4J_LOCAL_INSTANCE = os.environ.get("LOOKALIKE_NEO4J_INSTANCE", "dev")
_local_bolt_port = (
    os.environ.get(f"LOOKALIKE_NEO4J_PORT_{NEO4J_LOCAL_INSTANCE.upper()}")
    or {"dev": 7687, "test": 7688, "bench": 7689}[NEO4J_LOCAL_INSTANCE]
)
NEO4J_BOLT_URL = os.environ.get("NEO4J_BOLT_URL") or f"bolt://127.0.0.1:{_local_bolt_port}"
NEO4J_USERNAME = os.environ.get("NEO4J_USERNAME", "neo4j")
NEO4J_DATABASE = os.environ.get("NEO4J_DATABASE", "neo4j")
_local_password_file = VAR_DIR / "neo4j" / NEO4J_LOCAL_INSTANCE / "password"  # written by scripts/neo4j
NEO4J_PASSWORD = os.environ.get("NEO4J_PASSWORD") or (
    _local_password_file.read_text().strip() if _local_password_file.exists() else ""
)
# HNSW options of each backbone's vector index, chosen by measurement (docs/benchmarks.md): m = 8 halved
# query time but cost recall (0.85 at 100k); ef_construction 200 tripled the build for +0.01 recall. Quantisation
# (Neo4j 2026): "none" (the default: the index's score is the exact cosine, so searches need not read the stored
# vectors to rescore: a third of the time per search at 100k; int8 keeps ~0.01 more recall at the same over-fetch), "scalar" (int8, rescored),
# "binary" (the server's default, 32x smaller but it missed the demo's exact top-1); "1"/"0" as before.
NEO4J_VECTOR_HNSW_M = int(os.environ.get("NEO4J_VECTOR_HNSW_M", "16"))
NEO4J_VECTOR_HNSW_EF_CONSTRUCTION = int(os.environ.get("NEO4J_VECTOR_HNSW_EF_CONSTRUCTION", "100"))
NEO4J_VECTOR_QUANTIZATION = {"1": "scalar", "0": "none"}.get(
    _quantization := os.environ.get("NEO4J_VECTOR_QUANTIZATION", "none").lower(), _quantization
)
# How many more candidates than asked the index explores per search (Neo4j 2026 defaults: 1.5 scalar,
# 3 binary, 1 none); empty keeps the server's default.
NEO4J_VECTOR_SEARCH_EXPANSION = float(os.environ.get("NEO4J_VECTOR_SEARCH_EXPANSION") or 0) or None
# Fail fast when Neo4j is unreachable: a catalog save must not hang on a derived index.
NEO4J_CONNECTION_TIMEOUT_S = float(os.environ.get("NEO4J_CONNECTION_TIMEOUT_S", "3"))

# --- Tasks: embedding and graph sync run after commit ---------------------------------------
# The default is the queue: django-tasks' database backend, worked by `manage.py sync_worker` processes
# (any number, on any machine that reaches the database, Neo4j and the media storage). A save only
# enqueues. `LOOKALIKE_TASK_BACKEND=django_tasks.backends.immediate.ImmediateBackend` runs the work
# in-process right after commit instead (the test suite's default).
TASKS = {"default": {"BACKEND": os.environ.get("LOOKALIKE_TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}
# A worker claims up to this many image syncs at once: one graph round trip and one SIMILAR_TO refresh
# per touched product per batch (measured in docs/benchmarks.md, "Ingestion").
LOOKALIKE_WORKER_BATCH = int(os.environ.get("LOOKALIKE_WORKER_BATCH", "32"))
# Claim loops per worker process sharing its model (search/ingest/lanes.py): one's Neo4j writes and
# SIMILAR_TO refresh run while another's batch is on the model.
LOOKALIKE_WORKER_LANES = int(os.environ.get("LOOKALIKE_WORKER_LANES", "2"))
# A claimed task whose worker has not renewed its lease for this long is presumed dead (SIGKILL, lost
# machine) and is claimed again. Longer than the slowest batch; a live worker renews while it works.
LOOKALIKE_TASK_LEASE_S = float(os.environ.get("LOOKALIKE_TASK_LEASE_S", "120"))
# Neo4j unreachable: a batch goes back to the queue to run after this delay, doubling up to the maximum.
LOOKALIKE_GRAPH_RETRY_S = float(os.environ.get("LOOKALIKE_GRAPH_RETRY_S", "2"))
LOOKALIKE_GRAPH_RETRY_MAX_S = float(os.environ.get("LOOKALIKE_GRAPH_RETRY_MAX_S", "60"))
# The workers fit the catalog projection themselves once the catalog has settled (search/autofit.py: no sync
# queued or running, no fit yet or 20% of the fitted photos changed, enough products with several photos), so
# a shop is served the fit's measured gain (docs/benchmarks.md, "Catalog projection") without running
# `fit_projection`. LOOKALIKE_AUTO_FIT=0 turns it off; so does staff's `fit_projection --off`, until an
# explicit fit. Checked every LOOKALIKE_AUTO_FIT_EVERY_S; failed fits wait 2, 4, 8... checks (at most a day).
LOOKALIKE_AUTO_FIT = env_bool("LOOKALIKE_AUTO_FIT", True)
LOOKALIKE_AUTO_FIT_EVERY_S = float(os.environ.get("LOOKALIKE_AUTO_FIT_EVERY_S", "300"))
# Finished task results (one per photo synced) are deleted once this old, daily; 0 keeps them all.
LOOKALIKE_TASK_RESULTS_KEEP_DAYS = int(os.environ.get("LOOKALIKE_TASK_RESULTS_KEEP_DAYS", "14"))
# Periodic tasks the workers enqueue when due (search/ingest/schedule.py): task path -> every N seconds
# (0: never): expiring the search event log daily, the automatic fit's check, pruning the task results daily.
LOOKALIKE_WORKER_SCHEDULE = {
    "insights.tasks.insights_expire_task": float(
        os.environ.get("LOOKALIKE_INSIGHTS_EXPIRE_EVERY_S", "86400")
    ),
    "search.autofit.projection_autofit_task": LOOKALIKE_AUTO_FIT_EVERY_S if LOOKALIKE_AUTO_FIT else 0,
    "search.ingest.task_results.task_results_prune_task": 86400.0
    if LOOKALIKE_TASK_RESULTS_KEEP_DAYS > 0
    else 0,
}
# Each worker looks whether a scheduled task is due this often (the tests shorten it).
LOOKALIKE_WORKER_SCHEDULE_CHECK_S = float(os.environ.get("LOOKALIKE_WORKER_SCHEDULE_CHECK_S", "60"))

# --- Shopper insights (insights/): search events, clicks, click-feedback boost -----------------------
LOOKALIKE_INSIGHTS_ENABLED = env_bool("LOOKALIKE_INSIGHTS_ENABLED", True)
# "background": a thread per process writes events in batches, so a search never waits on the event store
# (a full queue drops events); "inline": written in the request, in a savepoint (tests, one-off scripts).
LOOKALIKE_INSIGHTS_WRITER = os.environ.get("LOOKALIKE_INSIGHTS_WRITER", "background")
LOOKALIKE_INSIGHTS_QUEUE_SIZE = int(os.environ.get("LOOKALIKE_INSIGHTS_QUEUE_SIZE", "10000"))
# The writer gathers events this long before writing them in one transaction (docs/benchmarks.md).
LOOKALIKE_INSIGHTS_GATHER_S = float(os.environ.get("LOOKALIKE_INSIGHTS_GATHER_S", "1.0"))
# Events (and their clicks and weekly counts) older than this are deleted daily by the workers' schedule
# (LOOKALIKE_WORKER_SCHEDULE) and by `manage.py insights_expire`.
LOOKALIKE_INSIGHTS_RETENTION_DAYS = int(os.environ.get("LOOKALIKE_INSIGHTS_RETENTION_DAYS", "90"))
# Privacy choice: 0 (default) never keeps the shopper's photo. N > 0 keeps a 128 px thumbnail for N days,
# shown to staff only, with the "demand the catalog does not meet" clusters.
LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS = int(os.environ.get("LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS", "0"))
# A search whose top cosine is at least this found a "good match"; the second while a catalog projection is
# served (its cosines have another scale). Measured on the demo data by benchmarks/good_match_threshold.py,
# see docs/benchmarks.md, "Shopper insights"; the projected one under the default fit (whitening + head: 0.41;
# the whitening alone measured 0.55).
LOOKALIKE_INSIGHTS_GOOD_MATCH_SCORE = float(os.environ.get("LOOKALIKE_INSIGHTS_GOOD_MATCH_SCORE", "0.77"))
LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE = float(
    os.environ.get("LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE", "0.41")
)
# Each fit calibrates both projected thresholds on its own photos (search/calibration.py). With this on, a
# served fit's own values replace the two defaults above; a variable set in the environment always wins, and
# fits without their own values (older ones) get the defaults. Off by default: docs/benchmarks.md, "Catalog
# projection", "Thresholds calibrated per fit".
LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT = env_bool("LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT")
LOOKALIKE_PROJECTED_THRESHOLDS_FROM_ENV = frozenset(
    name
    for name in ("LOOKALIKE_PROJECTED_SIMILAR_MIN_SCORE", "LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE")
    if name in os.environ
)
# A fit estimates its good match (a second, held-out fit: ~7 s at 10k images) only if it will be served;
# with the flag on, the workers estimate the served fit's if it has none (fitted with the flag off, or older),
# checking this often (search/fitting.py `fit_calibrate_served`).
if LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT:
    LOOKALIKE_WORKER_SCHEDULE["search.fitting.fit_calibrate_served_task"] = float(
        os.environ.get("LOOKALIKE_FIT_CALIBRATE_EVERY_S", "600")
    )
LOOKALIKE_INSIGHTS_CLICKS_PER_MINUTE = int(os.environ.get("LOOKALIKE_INSIGHTS_CLICKS_PER_MINUTE", "30"))
# Similar-items strips re-ranked by their clicks: "auto" turns on once the log holds enough strip clicks.
LOOKALIKE_CLICK_BOOST = os.environ.get("LOOKALIKE_CLICK_BOOST", "auto")
LOOKALIKE_CLICK_BOOST_MIN_CLICKS = int(os.environ.get("LOOKALIKE_CLICK_BOOST_MIN_CLICKS", "500"))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a request without credentials then gets 401 with WWW-Authenticate, not a bare 403.
        "rest_framework.authentication.TokenAuthentication",  # mobile and scripts: manage.py drf_create_token
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.ListPagination",
    "EXCEPTION_HANDLER": "core.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "search_anon": os.environ.get("LOOKALIKE_SEARCH_ANON_RATE", "30/min"),
        "clicks": f"{LOOKALIKE_INSIGHTS_CLICKS_PER_MINUTE}/min",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lookalike API",
    "DESCRIPTION": "Products, similar products and search by photo.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc assets are served from the sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "lookalike": {"handlers": ["console"], "level": os.environ.get("LOOKALIKE_LOG_LEVEL", "INFO")},
        "neo4j": {"handlers": ["console"], "level": "ERROR"},
    },
}
