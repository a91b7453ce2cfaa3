from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from catalog.models import Category, Product, ProductImage
from catalog.thumbnails import THUMBNAIL_PX, thumbnail_url
from core.api.serializers import ProductFilterSerializer, SlugLookupField


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class ProductImageSerializer(serializers.ModelSerializer):
    url = serializers.ImageField(source="image", read_only=True)
    thumbnail_url = serializers.SerializerMethodField(
        help_text=f"A JPEG at most {THUMBNAIL_PX} px on its longer side."
    )

    class Meta:
        model = ProductImage
        fields = ["id", "url", "thumbnail_url", "position"]

    def get_thumbnail_url(self, image: ProductImage) -> str:
        url = thumbnail_url(image)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ProductSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True)
    images = ProductImageSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "price",
            "category",
            "in_stock",
            "images",
            "created_at",
            "updated_at",
        ]


class ProductWriteSerializer(serializers.ModelSerializer):
    """Staff writes: the category by slug; the slug is made from the name when not given."""

    category = SlugLookupField(slug_field="slug", queryset=Category.objects.all())
    slug = serializers.SlugField(required=False, max_length=200)

    class Meta:
        model = Product
        fields = ["name", "slug", "description", "price", "category", "in_stock"]


class ProductImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="A JPEG, PNG or WebP photo of the product.")
    position = serializers.IntegerField(min_value=0, max_value=10_000, required=False)


class ProductImageStaffSerializer(ProductImageSerializer):
    class Meta(ProductImageSerializer.Meta):
        fields = [*ProductImageSerializer.Meta.fields, "sync_status", "sync_error", "embedding_model"]


class ProductListQuerySerializer(ProductFilterSerializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Part of the name.",
        validators=[
            RegexValidator(r"^[^\x00]*$", "Null characters are not allowed.")
        ],  # puts it in the schema too
    )
    ordering = serializers.ChoiceField(
        choices=["name", "-name", "price", "-price", "-created_at"], required=False, allow_blank=True
    )
