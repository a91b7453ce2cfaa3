"""An anonymous id per browser session: random, in a session cookie, set only once a search is recorded.

It says nothing about who the shopper is; it only lets a click count for the results that session saw."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

COOKIE = "lookalike_sid"
_VALID = re.compile(r"[0-9a-f]{16}")


class AnonymousSession:
    def __init__(self, cookie: str | None) -> None:
        self._id = cookie if cookie and _VALID.fullmatch(cookie) else ""
        self.issued = False

    @property
    def known(self) -> str:
        """The id the browser sent, or "" (never issues one)."""
        return self._id

    def id_issue(self) -> str:
        if not self._id:
            self._id, self.issued = secrets.token_hex(8), True
        return self._id


class AnonymousSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = AnonymousSession(request.COOKIES.get(COOKIE))
        request.insights_session = session  # type: ignore[attr-defined]
        response = self.get_response(request)
        if session.issued:
            # No max_age: a browser-session cookie, gone when the browser closes.
            response.set_cookie(
                COOKIE, session.known, httponly=True, samesite="Lax", secure=request.is_secure()
            )
        return response


def session_id_issue(request: HttpRequest) -> str:
    session = getattr(request, "insights_session", None)
    return session.id_issue() if session else ""


def session_id_known(request: HttpRequest) -> str:
    session = getattr(request, "insights_session", None)
    return session.known if session else ""
