"""Two claim loops on one SQLite file (`make run`: the web server and a worker with two lanes).

The queue's transactions must take SQLite's write lock when they begin. A deferred transaction that reads,
then writes while another connection holds the lock fails at once with "database is locked" (SQLite does
not wait there: it would deadlock), and Django reopens a connection with the settings' transaction mode,
dropping the EXCLUSIVE mode django-tasks-db sets on the connection object. Seen on a fresh `make run`: the
worker's first schedule check failed with a traceback. Runs in a subprocess on a real SQLite file (the test
database is in memory, where connections are never reopened).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult
from search.ingest.schedule import tasks_due_enqueue

call_command("migrate", verbosity=0)
connection.close()
errors, enqueued = [], []

def check(barrier):
    barrier.wait()
    try:
        enqueued.extend(tasks_due_enqueue())  # a fresh connection in this thread
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

for _ in range(ROUNDS):
    DBTaskResult.objects.all().delete()
    connection.close()
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=check, args=(barrier,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(len(errors), len(enqueued), errors[:1])
"""


def test_two_schedule_checks_on_one_sqlite_file_wait_for_each_other_instead_of_failing(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOOKALIKE_INSIGHTS_EXPIRE_EVERY_S": "3600",
        "LOOKALIKE_TASK_RESULTS_KEEP_DAYS": "0",  # one scheduled task per round: the expiry
        "LOOKALIKE_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    rounds = 20
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("ROUNDS", str(rounds))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    errors, enqueued, first_error = done.stdout.split(" ", 2)
    assert int(errors) == 0, first_error
    assert int(enqueued) == rounds  # each round's due task enqueued once, by one of the two
