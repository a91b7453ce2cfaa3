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
from search.api import serializers as api
from search.similarity import ProductMatch, product_similar_list, search_by_image


def _validated(serializer: type[Any], data: Any) -> dict[str, Any]:
    query = serializer(data=data)
    query.is_valid(raise_exception=True)
    return {**query.validated_data, "filter": query.product_filter()}


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
        matches = self.matches(request, product, limit=limit + 1, offset=offset)
        return ranked_response(request, matches, limit=limit, offset=offset, item=api.ProductMatchSerializer)

    @staticmethod
    def matches(request: Request, product: Product, *, limit: int, offset: int) -> list[ProductMatch]:
        query = _validated(api.SimilarFilterSerializer, request.query_params)
        return product_similar_list(
            product_id=product.pk,
            limit=limit,
            offset=offset,
            where=query["filter"],
            min_score=query.get("min_score"),
        )


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
        matches = self.matches(request, k=limit + 1, offset=offset)
        return ranked_response(request, matches, limit=limit, offset=offset, item=api.ProductMatchSerializer)

    @staticmethod
    def matches(request: Request, *, k: int, offset: int) -> list[ProductMatch]:
        query = _validated(api.PhotoSearchSerializer, request.data)
        return search_by_image(
            upload=query.get("image"),
            k=k,
            offset=offset,
            where=query["filter"],
            min_score=query.get("min_score"),
            crop=query.get("crop"),
            liked_ids=query.get("liked", ()),
            disliked_ids=query.get("disliked", ()),
        )
