"""API v1's list shapes, kept one release behind v2's one page shape; remove with v1.

v1 similar items: a bare list, `limit`/`offset`. v1 search: `k`/`offset` in the form, `{"results": [...]}`.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Product
from search.api import serializers as api
from search.api.views import PhotoSearchView, ProductSimilarView


class PhotoSearchV1Serializer(api.PhotoSearchSerializer):
    k = serializers.IntegerField(min_value=1, max_value=100, default=12)
    offset = serializers.IntegerField(min_value=0, max_value=1000, default=0)


class PhotoSearchResultSerializer(serializers.Serializer):
    results = api.ProductMatchSerializer(many=True)


class ProductSimilarV1View(ProductSimilarView):
    @extend_schema(
        operation_id="v1_products_similar_list",
        parameters=[api.SimilarFilterSerializer, api.SimilarPageQuerySerializer],
        responses=api.ProductMatchSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        product = get_object_or_404(Product, pk=pk)
        page = api.SimilarPageQuerySerializer(data=request.query_params)
        page.is_valid(raise_exception=True)
        limit, offset = page.validated_data["limit"], page.validated_data["offset"]
        matches, headers = self.matches(request, product, limit=limit, offset=offset, shown=limit)
        return Response(
            api.ProductMatchSerializer(matches, many=True, context={"request": request}).data, headers=headers
        )


class PhotoSearchV1View(PhotoSearchView):
    @extend_schema(
        request={"multipart/form-data": PhotoSearchV1Serializer},
        responses={200: PhotoSearchResultSerializer},
    )
    def post(self, request: Request) -> Response:
        page = PhotoSearchV1Serializer(data=request.data)
        page.is_valid(raise_exception=True)
        k = page.validated_data["k"]
        matches, headers = self.matches(request, k=k, offset=page.validated_data["offset"], shown=k)
        return Response(
            PhotoSearchResultSerializer({"results": matches}, context={"request": request}).data,
            headers=headers,  # Search-Id, for POST /api/v1/clicks/
        )
