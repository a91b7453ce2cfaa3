from __future__ import annotations

from rest_framework import serializers

from catalog.models import Category, Product, ProductImage


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class ProductImageSerializer(serializers.ModelSerializer):
    url = serializers.ImageField(source="image", read_only=True)

    class Meta:
        model = ProductImage
        fields = ["id", "url", "position"]


class ProductSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True)
    images = ProductImageSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "slug", "description", "price", "category", "in_stock", "images", "created_at", "updated_at"]


class ProductMatchSerializer(serializers.Serializer):
    product = ProductSerializer()
    score = serializers.FloatField(help_text="Cosine similarity in [-1, 1]; higher is more similar.")
    image_id = serializers.IntegerField(allow_null=True, help_text="The product's image that matched best.")


class SimilarQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=50, default=8)


class PhotoSearchSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="A JPEG, PNG or WebP photo.")
    k = serializers.IntegerField(min_value=1, max_value=100, default=12)


class PhotoSearchResultSerializer(serializers.Serializer):
    results = ProductMatchSerializer(many=True)
