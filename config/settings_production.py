"""Production profile: the base settings, hardened. DJANGO_SETTINGS_MODULE=config.settings_production.

Expects TLS to end at a reverse proxy that sets X-Forwarded-Proto, and the proxy (or a CDN) to serve
STATIC_ROOT and MEDIA_ROOT with `X-Content-Type-Options: nosniff`. Neo4j's URL and credentials come
from the environment only, never from the local development server's password file.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings import *  # noqa: F403

DEBUG = False
if not os.environ.get("DJANGO_SECRET_KEY"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is required in production.")
for _name in ("NEO4J_BOLT_URL", "NEO4J_PASSWORD"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(
            f"{_name} is required in production (Neo4j credentials come from the environment)."
        )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)  # noqa: F405
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
