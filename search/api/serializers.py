from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from catalog.models import Category, Product, ProductImage
from catalog.thumbnails import THUMBNAIL_PX, thumbnail_url
from search.graph.base import ProductFilter


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

    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all())
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


class ProductMatchSerializer(serializers.Serializer):
    product = ProductSerializer()
    score = serializers.FloatField(help_text="Cosine similarity in [-1, 1]; higher is more similar.")
    image_id = serializers.IntegerField(allow_null=True, help_text="The product's image that matched best.")


class IntListField(serializers.CharField):
    """Comma-separated integers, e.g. "12,40" (multipart and query strings carry no arrays portably)."""

    def __init__(self, *, count: int | None = None, max_items: int = 20, **kwargs):
        self.count, self.max_items = count, max_items
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> tuple[int, ...]:
        text = super().to_internal_value(data)
        try:
            values = tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise serializers.ValidationError("Use comma-separated whole numbers, e.g. 12,40.") from None
        if self.count is not None and len(values) != self.count:
            raise serializers.ValidationError(f"Give exactly {self.count} numbers.")
        if len(values) > self.max_items:
            raise serializers.ValidationError(f"Give at most {self.max_items} numbers.")
        return values


class ProductFilterSerializer(serializers.Serializer):
    # Blank query values count as absent (DRF form semantics), so the schema allows them.
    category = serializers.SlugField(required=False, allow_blank=True, help_text="Category slug.")
    min_price = serializers.FloatField(min_value=0, max_value=1e9, required=False)
    max_price = serializers.FloatField(min_value=0, max_value=1e9, required=False)
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict) -> dict:
        # DRF would read a blank number as "absent"; a client that sent one most likely meant something.
        for name in ("min_price", "max_price"):
            if self.initial_data.get(name) == "":
                raise serializers.ValidationError({name: "Give a number, or leave the parameter out."})
        return attrs

    def product_filter(self) -> ProductFilter:
        data = self.validated_data
        return ProductFilter(
            category_slug=data.get("category") or None,
            min_price=data.get("min_price"),
            max_price=data.get("max_price"),
            in_stock=data.get("in_stock"),
        )


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


MIN_SCORE_HELP = "Only results with cosine similarity at least this."


class SimilarQuerySerializer(ProductFilterSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=50, default=8)
    offset = serializers.IntegerField(min_value=0, max_value=1000, default=0)
    min_score = serializers.FloatField(min_value=-1, max_value=1, required=False, help_text=MIN_SCORE_HELP)


class PhotoSearchSerializer(ProductFilterSerializer):
    image = serializers.FileField(required=False, help_text="A JPEG, PNG or WebP photo.")
    crop = IntListField(
        count=4, required=False, help_text="Search only this region: x,y,width,height in pixels."
    )
    liked = IntListField(required=False, help_text="Product ids to find more like (with or without a photo).")
    disliked = IntListField(required=False, help_text="Product ids to find less like.")
    k = serializers.IntegerField(min_value=1, max_value=100, default=12)
    offset = serializers.IntegerField(min_value=0, max_value=1000, default=0)
    min_score = serializers.FloatField(min_value=-1, max_value=1, required=False, help_text=MIN_SCORE_HELP)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if not attrs.get("image") and not attrs.get("liked"):
            raise serializers.ValidationError({"image": "Send a photo, liked product ids, or both."})
        if attrs.get("crop") and not attrs.get("image"):
            raise serializers.ValidationError({"crop": "A crop box needs a photo."})
        return attrs


class PhotoSearchResultSerializer(serializers.Serializer):
    results = ProductMatchSerializer(many=True)
