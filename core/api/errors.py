"""The API's one error handler: every error has one shape, {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import ServiceError

logger = logging.getLogger("lookalike.api")


def _error(code: str, message: str, http_status: int, details: Any = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return Response({"error": body}, status=http_status)


def _service_error(exc: ServiceError) -> Response:
    # The same status and code the pages answer with (core.errors).
    if exc.http_status >= 500 and exc.retry_after_s is None:  # e.g. a wrong password: retrying will not help
        logger.error("%s: %s", exc.code, exc)
    response = _error(exc.code, exc.message, exc.http_status)
    if exc.retry_after_s is not None:
        response["Retry-After"] = str(exc.retry_after_s)
    return response


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):  # raised by a service's full_clean(), e.g. a duplicate slug
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        return _service_error(exc)
    exc = _as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, APIException):
        return response
    details = response.data if isinstance(response.data, dict) and "detail" not in response.data else None
    message = (
        str(exc.detail)
        if details is None and not isinstance(exc.detail, (dict, list))
        else "Invalid request."
    )
    codes = exc.get_codes()
    wrapped = _error(codes if isinstance(codes, str) else "invalid", message, response.status_code, details)
    for header in ("Retry-After", "WWW-Authenticate", "Allow"):
        if header in response:
            wrapped[header] = response[header]
    return wrapped


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for URLs no route matches: JSON in the API's shape under /api/, the normal page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": "No such API endpoint."}}, status=404)
    return page_not_found(request, exception)
