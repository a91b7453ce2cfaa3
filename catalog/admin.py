from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from catalog.forms import ProductImageForm
from catalog.models import Category, Product, ProductImage
from catalog.thumbnails import thumbnail_url
from search.tasks import image_sync_on_commit


def _thumbnail(image: ProductImage, size_px: int = 80) -> str:
    if not image.image:
        return "—"
    return format_html(
        '<img src="{}" alt="" style="width:{}px;height:{}px;object-fit:contain">', thumbnail_url(image), size_px, size_px
    )


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    extra = 1
    fields = ("thumbnail", "image", "position", "sync_status", "embedding_model", "sync_error")
    readonly_fields = ("thumbnail", "sync_status", "embedding_model", "sync_error")

    @admin.display(description="Preview")
    def thumbnail(self, obj: ProductImage) -> str:
        return _thumbnail(obj)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "price", "in_stock", "image_count", "updated_at")
    list_filter = ("category", "in_stock")
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ProductImageInline]

    @admin.display(description="Images")
    def image_count(self, obj: Product) -> int:
        return obj.images.count()


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    form = ProductImageForm
    list_display = ("thumbnail", "product", "position", "sync_status", "embedding_model", "synced_at")
    list_filter = ("sync_status", "embedding_model")
    search_fields = ("product__name",)
    readonly_fields = ("thumbnail", "content_hash", "sync_status", "sync_error", "synced_at", "embedding_model")
    actions = ["resync"]

    @admin.display(description="Preview")
    def thumbnail(self, obj: ProductImage) -> str:
        return _thumbnail(obj)

    @admin.action(description="Re-embed and re-sync selected images")
    def resync(self, request: HttpRequest, queryset: QuerySet[ProductImage]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        queryset.update(embedding=None, sync_status="pending")
        for image_id in ids:
            image_sync_on_commit(image_id)
        self.message_user(request, f"{len(ids)} images queued for re-embedding.", messages.SUCCESS)
