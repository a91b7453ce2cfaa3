from django import template

from catalog.models import ProductImage
from catalog.thumbnails import thumbnail_url

register = template.Library()


@register.filter(name="thumbnail")
def thumbnail(image: ProductImage) -> str:
    return thumbnail_url(image)
