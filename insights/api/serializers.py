from __future__ import annotations

from rest_framework import serializers


class ClickSerializer(serializers.Serializer):
    search_id = serializers.IntegerField(min_value=1, help_text="`search_id` of the search response")
    product = serializers.IntegerField(min_value=1, help_text="id of the product opened")
    rank = serializers.IntegerField(min_value=1, max_value=1000, help_text="its rank in the results, from 1")


class ClickResultSerializer(serializers.Serializer):
    recorded = serializers.BooleanField(
        help_text="false for unknown searches or products, repeats, and clicks over the rate limit"
    )
