from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from catalog.models import Category, Product
from catalog.selectors import product_list
from search.api import serializers as api
from search.similarity import product_similar_list, search_by_image


@extend_schema_view(list=extend_schema(parameters=[api.ProductListQuerySerializer]))
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = api.ProductSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Product]:
        if self.action != "list":
            return product_list()
        query = api.ProductListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        f = query.product_filter()
        products = product_list(category_slug=f.category_slug, query=query.validated_data.get("q"))
        if f.min_price is not None:
            products = products.filter(price__gte=f.min_price)
        if f.max_price is not None:
            products = products.filter(price__lte=f.max_price)
        if f.in_stock is not None:
            products = products.filter(in_stock=f.in_stock)
        return products.order_by(query.validated_data.get("ordering") or "name", "pk")

    @extend_schema(parameters=[api.SimilarQuerySerializer], responses=api.ProductMatchSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def similar(self, request: Request, pk: str | None = None) -> Response:
        product = self.get_object()
        query = api.SimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        matches = product_similar_list(
            product_id=product.pk, limit=data["limit"], offset=data["offset"], where=query.product_filter(),
            min_score=data.get("min_score"),
        )
        return Response(api.ProductMatchSerializer(matches, many=True, context={"request": request}).data)


class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Category.objects.all()
    serializer_class = api.CategorySerializer
    pagination_class = None


class SearchAnonThrottle(AnonRateThrottle):
    scope = "search_anon"


class PhotoSearchView(APIView):
    parser_classes = [MultiPartParser]
    throttle_classes = [SearchAnonThrottle]
    permission_classes = [AllowAny]  # a search is a read, sent as POST only to carry the photo

    @extend_schema(
        request={"multipart/form-data": api.PhotoSearchSerializer},
        responses={200: api.PhotoSearchResultSerializer},
    )
    def post(self, request: Request) -> Response:
        query = api.PhotoSearchSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        matches = search_by_image(
            upload=data.get("image"), k=data["k"], offset=data["offset"], where=query.product_filter(),
            min_score=data.get("min_score"), crop=data.get("crop"),
            liked_ids=data.get("liked", ()), disliked_ids=data.get("disliked", ()),
        )
        result = {"results": matches}
        return Response(api.PhotoSearchResultSerializer(result, context={"request": request}).data)
