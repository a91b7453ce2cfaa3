from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.api.serializers import ProductSerializer
from core.api.pagination import PageQuerySerializer, page_serializer
from core.api.serializers import IntListField, ProductFilterSerializer

MIN_SCORE_HELP = "Only results with cosine similarity at least this."


class ProductMatchSerializer(serializers.Serializer):
    product = ProductSerializer()
    score = serializers.FloatField(help_text="Cosine similarity in [-1, 1]; higher is more similar.")
    image_id = serializers.IntegerField(allow_null=True, help_text="The product's image that matched best.")


ProductMatchPageSerializer = page_serializer(ProductMatchSerializer(many=True), name="ProductMatchPage")


class SimilarPageQuerySerializer(PageQuerySerializer):
    limit = serializers.IntegerField(min_value=1, max_value=50, default=8)


class SearchPageQuerySerializer(PageQuerySerializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=12)


class SimilarFilterSerializer(ProductFilterSerializer):
    min_score = serializers.FloatField(min_value=-1, max_value=1, required=False, help_text=MIN_SCORE_HELP)


class PhotoSearchSerializer(ProductFilterSerializer):
    """What to search by and which products may come back; the page (limit, offset) is in the query."""

    image = serializers.FileField(required=False, help_text="A JPEG, PNG or WebP photo.")
    crop = IntListField(
        count=4, required=False, help_text="Search only this region: x,y,width,height in pixels."
    )
    liked = IntListField(required=False, help_text="Product ids to find more like (with or without a photo).")
    disliked = IntListField(required=False, help_text="Product ids to find less like.")
    min_score = serializers.FloatField(min_value=-1, max_value=1, required=False, help_text=MIN_SCORE_HELP)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs.get("image") and not attrs.get("liked"):
            raise serializers.ValidationError({"image": "Send a photo, liked product ids, or both."})
        if attrs.get("crop") and not attrs.get("image"):
            raise serializers.ValidationError({"crop": "A crop box needs a photo."})
        return attrs
