"""The one list shape of API v2, for product lists, similar items and search results alike:

    {"count": int | null, "next": url | null, "previous": url | null, "results": [...]}

paged by `limit` and `offset` in the query string. `count` is the total where the list has one (products);
ranked lists (similar items, search) are cut by score and say null. For a search, `next` is where to
POST the same form for the next page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_OFFSET = 1000


class ListPagination(LimitOffsetPagination):
    default_limit = 24
    max_limit = 100

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        # DRF reads a limit or offset that is no number as "the default"; the schema says integer, so 400.
        for name in (self.limit_query_param, self.offset_query_param):
            value = request.query_params.get(name)
            if value is not None and not value.strip().lstrip("-").isdigit():
                raise serializers.ValidationError({name: "A whole number."})
        return super().paginate_queryset(queryset, request, view)


class PageQuerySerializer(serializers.Serializer):
    """`limit` and `offset` of a ranked list; subclasses set the default and maximum limit."""

    limit = serializers.IntegerField(min_value=1, max_value=100, default=12)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)


def _link(request: Request, *, limit: int, offset: int) -> str:
    url = replace_query_param(request.build_absolute_uri(), "limit", limit)
    return replace_query_param(url, "offset", offset) if offset else remove_query_param(url, "offset")


def ranked_page(request: Request, rows: Sequence[Any], *, limit: int, offset: int) -> dict[str, Any]:
    """The envelope for a ranked list fetched with one extra row (`limit + 1`) to tell whether more follow."""
    more = len(rows) > limit
    return {
        "count": None,
        "next": _link(request, limit=limit, offset=offset + limit) if more else None,
        "previous": _link(request, limit=limit, offset=max(offset - limit, 0)) if offset else None,
        "results": list(rows[:limit]),
    }


def page_serializer(item: serializers.Serializer, *, name: str) -> type[serializers.Serializer]:
    """The envelope's schema around `item` (drf-spectacular names the component `name`)."""
    fields = {
        "count": serializers.IntegerField(
            allow_null=True, help_text="Total, for lists that have one; null for ranked lists."
        ),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": item,
    }
    return type(name, (serializers.Serializer,), fields)


def ranked_response(
    request: Request,
    rows: Sequence[Any],
    *,
    limit: int,
    offset: int,
    item: type[serializers.Serializer],
    headers: dict[str, str] | None = None,
) -> Response:
    page = ranked_page(request, rows, limit=limit, offset=offset)
    page["results"] = item(page["results"], many=True, context={"request": request}).data
    return Response(page, headers=headers)
