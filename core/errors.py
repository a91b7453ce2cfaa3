"""Errors a request can cause or meet, each with the HTTP status and code that pages and the API answer
with: the one error-to-status mapping (core.api.errors renders it as JSON, the pages as text)."""

from __future__ import annotations


class ServiceError(Exception):
    http_status = 400
    code = "invalid"
    # What a shopper or client is told; None: the exception's own message is written for them.
    public_message: str | None = None
    retry_after_s: int | None = None

    @property
    def message(self) -> str:
        return self.public_message or str(self)
