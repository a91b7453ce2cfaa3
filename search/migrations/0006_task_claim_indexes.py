"""Indexes on django-tasks-db's task table for the worker's claims (search/migrations/_task_indexes.py)."""

from django.db import migrations

from search.migrations import _task_indexes


def _create(apps, schema_editor):  # type: ignore[no-untyped-def]
    for sql in _task_indexes.create_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql)


def _drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    for sql in _task_indexes.drop_sql():
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0005_fit_good_match_estimated_at"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(_create, _drop)]
