from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
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


class ProductFilterSerializer(serializers.Serializer):
    # Blank query values count as absent (DRF form semantics), so the schema allows them.
    category = serializers.SlugField(required=False, allow_blank=True)
    min_price = serializers.FloatField(min_value=0, max_value=1e9, required=False)
    max_price = serializers.FloatField(min_value=0, max_value=1e9, required=False)
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    ordering = serializers.ChoiceField(
        choices=["name", "-name", "price", "-price", "-created_at"], required=False, allow_blank=True
    )


@extend_schema_view(list=extend_schema(parameters=[ProductFilterSerializer]))
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = api.ProductSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Product]:
        if self.action != "list":
            return product_list()
        filters = ProductFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        products = product_list(category_slug=f.get("category"), query=f.get("q"))
        if "min_price" in f:
            products = products.filter(price__gte=f["min_price"])
        if "max_price" in f:
            products = products.filter(price__lte=f["max_price"])
        if f.get("in_stock") is not None:
            products = products.filter(in_stock=f["in_stock"])
        return products.order_by(f.get("ordering") or "name", "pk")

    @extend_schema(parameters=[api.SimilarQuerySerializer], responses=api.ProductMatchSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def similar(self, request: Request, pk: str | None = None) -> Response:
        product = self.get_object()
        query = api.SimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        matches = product_similar_list(product_id=product.pk, limit=query.validated_data["limit"])
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
        matches = search_by_image(upload=query.validated_data["image"], k=query.validated_data["k"])
        result = {"results": matches}
        return Response(api.PhotoSearchResultSerializer(result, context={"request": request}).data)
