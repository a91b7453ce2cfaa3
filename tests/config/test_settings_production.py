"""The production profile passes `check --deploy` and refuses to start without its secrets (fresh subprocesses)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK_DEPLOY = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('check', deploy=True, fail_level='WARNING'); "
    "from django.conf import settings; print('DEBUG', settings.DEBUG)"
)


def _production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEO4J_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings_production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # made per run: no secret lives in the repo
            "DJANGO_ALLOWED_HOSTS": "shop.example.com",
            "NEO4J_BOLT_URL": "neo4j+s://graph.example.com:7687",
            "NEO4J_PASSWORD": secrets.token_urlsafe(16),
            "DJANGO_DEBUG": "1",  # must be ignored by the production profile
        }
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v}


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_and_debug_is_off_in_production():
    result = _python(CHECK_DEPLOY, _production_env())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout and "DEBUG False" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "NEO4J_PASSWORD", "NEO4J_BOLT_URL"])
def test_production_refuses_to_start_without_its_secrets(missing):
    result = _python(CHECK_DEPLOY, _production_env(**{missing: ""}))
    assert result.returncode != 0 and f"{missing} is required in production" in result.stderr


def test_base_settings_refuse_a_missing_secret_key_unless_debugging():
    env = _production_env(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_SECRET_KEY="", DJANGO_DEBUG="")
    result = _python("import django; django.setup()", env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY is required" in result.stderr


def test_neo4j_credentials_are_never_in_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [
        path
        for path in tracked
        if path.endswith("password") or "/neo4j/dev/" in path or "/neo4j/test/" in path
    ]
