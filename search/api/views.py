"""Search endpoints: a product's similar items and search by photo, as ranked pages (core.api.pagination)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from catalog.models import Product
from core.api.pagination import ranked_response
from insights.models import Interface
from insights.services import search_event_record
from search.api import serializers as api
from search.similarity import MatchList, ProductMatch, product_similar_list, search_by_image

Ranked = tuple[list[ProductMatch], dict[str, str] | None]  # matches, and the response headers


def _validated(serializer: type[Any], data: Any) -> dict[str, Any]:
    query = serializer(data=data)
    query.is_valid(raise_exception=True)
    return {**query.validated_data, "filter": query.product_filter()}


def _recorded(request: Request, matches: list[ProductMatch], *, shown: int, **event: Any) -> Ranked:
    """Record the part of a ranked list the client is shown (not the row fetched to see whether more follow)
    as a search event; its id goes back in the Search-Id header, for POST /api/v2/clicks/."""
    page = MatchList(
        matches[:shown],
        model=getattr(matches, "model", ""),
        query_vector=getattr(matches, "query_vector", None),
    )
    event_id = search_event_record(request=request, interface=Interface.API, matches=page, **event)
    return matches, {"Search-Id": str(event_id)} if event_id else None


class ProductSimilarView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="v2_products_similar_list",
        parameters=[api.SimilarFilterSerializer, api.SimilarPageQuerySerializer],
        responses=api.ProductMatchPageSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        product = get_object_or_404(Product, pk=pk)
        page = api.SimilarPageQuerySerializer(data=request.query_params)
        page.is_valid(raise_exception=True)
        limit, offset = page.validated_data["limit"], page.validated_data["offset"]
        # One more than asked, to tell whether a next page exists.
        matches, headers = self.matches(request, product, limit=limit + 1, offset=offset, shown=limit)
        return ranked_response(
            request, matches, limit=limit, offset=offset, item=api.ProductMatchSerializer, headers=headers
        )

    @staticmethod
    def matches(request: Request, product: Product, *, limit: int, offset: int, shown: int) -> Ranked:
        query = _validated(api.SimilarFilterSerializer, request.query_params)
        matches = product_similar_list(
            product_id=product.pk,
            limit=limit,
            offset=offset,
            where=query["filter"],
            min_score=query.get("min_score"),
        )
        return _recorded(request, matches, shown=shown, source_product_id=product.pk)


class SearchAnonThrottle(AnonRateThrottle):
    scope = "search_anon"


class PhotoSearchView(APIView):
    parser_classes = [MultiPartParser]
    throttle_classes = [SearchAnonThrottle]
    permission_classes = [AllowAny]  # a search is a read, sent as POST only to carry the photo

    @extend_schema(
        parameters=[api.SearchPageQuerySerializer],
        request={"multipart/form-data": api.PhotoSearchSerializer},
        responses={200: api.ProductMatchPageSerializer},
    )
    def post(self, request: Request) -> Response:
        page = api.SearchPageQuerySerializer(data=request.query_params)
        page.is_valid(raise_exception=True)
        limit, offset = page.validated_data["limit"], page.validated_data["offset"]
        matches, headers = self.matches(request, k=limit + 1, offset=offset, shown=limit)
        return ranked_response(
            request, matches, limit=limit, offset=offset, item=api.ProductMatchSerializer, headers=headers
        )

    @staticmethod
    def matches(request: Request, *, k: int, offset: int, shown: int) -> Ranked:
        query = _validated(api.PhotoSearchSerializer, request.data)
        matches = search_by_image(
            upload=query.get("image"),
            k=k,
            offset=offset,
            where=query["filter"],
            min_score=query.get("min_score"),
            crop=query.get("crop"),
            liked_ids=query.get("liked", ()),
            disliked_ids=query.get("disliked", ()),
        )
        return _recorded(
            request,
            matches,
            shown=shown,
            where=query["filter"],
            liked_ids=query.get("liked", ()),
            disliked_ids=query.get("disliked", ()),
            photo=query.get("image"),
            cropped=query.get("crop") is not None,
        )
