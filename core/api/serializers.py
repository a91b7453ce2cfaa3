"""Query serializers the catalog and search APIs share; they parse through core.filters, as the pages do."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.filters import ProductFilter, id_list_parse, product_filter_from


class IntListField(serializers.CharField):
    """Comma-separated integers, e.g. "12,40" (multipart and query strings carry no arrays portably)."""

    def __init__(self, *, count: int | None = None, max_items: int = 20, **kwargs: Any) -> None:
        self.count, self.max_items = count, max_items
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> tuple[int, ...]:  # type: ignore[override]
        try:
            return id_list_parse(super().to_internal_value(data), max_items=self.max_items, count=self.count)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class SlugLookupField(serializers.SlugRelatedField):
    """A related object by slug; a value that cannot be a slug (a NUL, which PostgreSQL refuses in a query
    with a DataError, i.e. a 500) is refused before the lookup."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class ProductFilterSerializer(serializers.Serializer):
    # Blank query values count as absent (DRF form semantics), so the schema allows them.
    category = serializers.SlugField(required=False, allow_blank=True, help_text="Category slug.")
    min_price = serializers.FloatField(min_value=0, max_value=1e9, required=False)
    max_price = serializers.FloatField(min_value=0, max_value=1e9, required=False)
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # DRF would read a blank number as "absent"; a client that sent one most likely meant something.
        for name in ("min_price", "max_price"):
            if self.initial_data.get(name) == "":
                raise serializers.ValidationError({name: "Give a number, or leave the parameter out."})
        return attrs

    def product_filter(self) -> ProductFilter:
        return product_filter_from(self.validated_data)
