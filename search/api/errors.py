"""Every API error has one shape: {"error": {"code": ..., "message": ..., "details": {...}}}."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler

from search.embeddings import InvalidImage
from search.graph import GraphMisconfigured, GraphUnavailable
from search.similarity import InvalidQuery, UploadTooLarge

RETRY_AFTER_S = 30
logger = logging.getLogger("lookalike.api")


def _error(code: str, message: str, http_status: int, details: Any = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return Response({"error": body}, status=http_status)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, UploadTooLarge):
        return _error("upload_too_large", str(exc), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, InvalidImage):
        return _error("invalid_image", str(exc), status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, InvalidQuery):
        return _error("invalid_query", str(exc), status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, GraphMisconfigured):  # a wrong password is no outage: retrying will not help
        logger.error("Graph store misconfigured: %s", exc)
        return _error(
            "search_misconfigured",
            "Search is misconfigured on the server.",
            status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, GraphUnavailable):
        response = _error(
            "search_unavailable",
            "Search is temporarily unavailable; retry shortly.",
            status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    if isinstance(exc, DjangoValidationError):  # raised by a service's full_clean(), e.g. a duplicate slug
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, APIException):
        return response
    details = response.data if isinstance(response.data, dict) and "detail" not in response.data else None
    message = (
        str(exc.detail)
        if details is None and not isinstance(exc.detail, (dict, list))
        else "Invalid request."
    )
    wrapped = _error(
        exc.get_codes() if isinstance(exc.get_codes(), str) else "invalid",
        message,
        response.status_code,
        details,
    )
    for header in ("Retry-After", "WWW-Authenticate", "Allow"):
        if header in response:
            wrapped[header] = response[header]
    return wrapped


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for URLs no route matches: JSON in the API's shape under /api/, the normal page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": "No such API endpoint."}}, status=404)
    return page_not_found(request, exception)
