from __future__ import annotations

from django import template
from django.urls import reverse

from catalog.models import Product

register = template.Library()


@register.simple_tag
def result_url(event_id: int | None, product: Product, rank: int) -> str:
    """Where a result links: through the click counter when the search was recorded, else straight on."""
    if not event_id:
        return product.get_absolute_url()
    return reverse(
        "insights:result-open", kwargs={"event_id": event_id, "rank": rank, "product_id": product.pk}
    )
