"""Catalog endpoints: products (everyone reads, staff write through catalog.services) and categories."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import BasePagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.api import serializers as api
from catalog.models import Category, Product
from catalog.selectors import product_list
from catalog.services import (
    product_create,
    product_delete,
    product_image_add,
    product_image_delete,
    product_update,
)
from core.api.pagination import ListPagination
from core.images import upload_image_check


@extend_schema_view(
    list=extend_schema(parameters=[api.ProductListQuerySerializer]),
    create=extend_schema(request=api.ProductWriteSerializer, responses={201: api.ProductSerializer}),
    update=extend_schema(request=api.ProductWriteSerializer, responses=api.ProductSerializer),
    partial_update=extend_schema(request=api.ProductWriteSerializer, responses=api.ProductSerializer),
)
class ProductViewSet(viewsets.ModelViewSet):
    """Everyone reads; staff write, through the catalog services, so graph sync happens as in the admin."""

    serializer_class = api.ProductSerializer
    pagination_class: type[BasePagination] | None = ListPagination
    lookup_value_regex = r"[0-9]+"

    def get_permissions(self) -> list[BasePermission]:
        # Plain AllowAny / IsAdminUser (staff), so the OpenAPI schema marks reads as needing no credentials.
        # The images' sync state (and its errors) is for staff only.
        public_read = self.request.method in SAFE_METHODS and self.action != "images_state"
        return [AllowAny()] if public_read else [IsAdminUser()]

    def _written(self, product: Product, status_code: int) -> Response:
        product = product_list().get(pk=product.pk)
        return Response(
            api.ProductSerializer(product, context={"request": self.request}).data, status=status_code
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._validated_write(request.data)
        return self._written(product_create(**data), status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        product = self.get_object()
        data = self._validated_write(request.data, partial=partial)
        return self._written(product_update(product=product, **data), status.HTTP_200_OK)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _validated_write(self, data: Any, *, partial: bool = False) -> dict[str, Any]:
        serializer = api.ProductWriteSerializer(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(
        request={"multipart/form-data": api.ProductImageUploadSerializer},
        responses={201: api.ProductImageStaffSerializer},
    )
    @action(detail=True, methods=["post"], url_path="images", parser_classes=[MultiPartParser])
    def images_add(self, request: Request, pk: str | None = None) -> Response:
        product = self.get_object()
        upload = api.ProductImageUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["image"]
        upload_image_check(file)  # nothing is stored unless it is a decodable image within the limits
        image = product_image_add(
            product=product, file=file, filename=file.name, position=upload.validated_data.get("position")
        )
        image.refresh_from_db()  # the sync after commit has run (immediate task backend) or is queued
        return Response(
            api.ProductImageStaffSerializer(image, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses={200: api.ProductImageStaffSerializer(many=True)})
    @images_add.mapping.get
    def images_state(self, request: Request, pk: str | None = None) -> Response:
        """Staff: the product's images with their sync state (pending until a worker has synced them, failed
        with its error)."""
        images = self.get_object().images.all()
        return Response(api.ProductImageStaffSerializer(images, many=True, context={"request": request}).data)

    @extend_schema(responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"images/(?P<image_id>[0-9]+)")
    def images_delete(self, request: Request, pk: str | None = None, image_id: str | None = None) -> Response:
        product = self.get_object()
        image = get_object_or_404(product.images.all(), pk=image_id)
        product_image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_queryset(self) -> QuerySet[Product]:
        if self.action != "list":
            return product_list()
        query = api.ProductListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        f = query.product_filter()
        products = product_list(
            category_slug=f.category_slug,
            query=query.validated_data.get("q"),
            min_price=f.min_price,
            max_price=f.max_price,
            in_stock=f.in_stock,
        )
        return products.order_by(query.validated_data.get("ordering") or "name", "pk")


class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Category.objects.all()
    serializer_class = api.CategorySerializer
    pagination_class = None
