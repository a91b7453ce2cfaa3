"""Keep the session's rows across Django's flush after a transactional test.

Tests with a transactional database (a live server, a background writer thread) see every table emptied
after them, which would take the session's demo catalog from the tests that follow. They snapshot the rows
first and put them back with the same primary keys, so the Neo4j graph built from them stays valid.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from search.tasks import sync_deferred


def db_snapshot(django_db_blocker) -> str:
    with django_db_blocker.unblock():
        return connection.creation.serialize_db_to_string()


def db_restore(snapshot: str, django_db_blocker) -> None:
    # Empty every table first (content types and permissions come back from the snapshot, with their ids).
    # The restored rows are already in the graph: no sync on their save signals.
    with django_db_blocker.unblock(), sync_deferred():
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        connection.creation.deserialize_db_from_string(snapshot)
        # The rows came back with their primary keys; PostgreSQL's sequences do not follow explicit keys
        # (SQLite's do), so the next insert would reuse a restored key.
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                cursor.execute(statement)
