from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from catalog.forms import ProductImageForm
from catalog.models import Category, Product, ProductImage
from catalog.thumbnails import thumbnail_url
from search.duplicates import NearDuplicate, image_near_duplicates
from search.graph import GraphUnavailable
from search.reindex import images_reembed, images_resync
from search.similarity import product_similar_list

logger = logging.getLogger("lookalike.admin")

GRAPH_DOWN = "Neo4j is unavailable; run manage.py sync_graph once it is back."


def _thumbnail(image: ProductImage, size_px: int = 80) -> str:
    if not image.image:
        return "—"
    return format_html(
        '<img src="{}" alt="" style="width:{}px;height:{}px;object-fit:contain">',
        thumbnail_url(image),
        size_px,
        size_px,
    )


def _from_graph(read: Callable[[], str]) -> str:
    # Admin pages must render while Neo4j is down; the graph-backed fields say so instead.
    try:
        return read()
    except GraphUnavailable as exc:
        logger.warning("Admin graph read failed: %s", exc)
        return GRAPH_DOWN


def _duplicates_html(duplicates: list[NearDuplicate]) -> str:
    if not duplicates:
        return "—"
    return format_html_join(
        ", ",
        'near-duplicate of <a href="{}">{}</a> ({})',
        ((admin_change_url(d.product), d.product.name, f"{d.score:.3f}") for d in duplicates),
    )


def admin_change_url(product: Product) -> str:
    return reverse("admin:catalog_product_change", args=[product.pk])


def near_duplicates_warn(request: HttpRequest, image_ids: list[int]) -> None:
    """A warning per saved image that looks like another product's image (after its sync has run)."""
    for image_id in image_ids:
        try:
            duplicates = image_near_duplicates(image_id)
        except GraphUnavailable:
            return
        if duplicates:
            messages.warning(
                request,
                format_html(
                    "Image #{} looks like a photo of another product: {}. Is this a duplicate listing?",
                    image_id,
                    _duplicates_html(duplicates),
                ),
            )


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    extra = 1
    fields = ("thumbnail", "image", "position", "sync_status", "embedding_model", "sync_error", "duplicates")
    readonly_fields = ("thumbnail", "sync_status", "embedding_model", "sync_error", "duplicates")

    @admin.display(description="Preview")
    def thumbnail(self, obj: ProductImage) -> str:
        return _thumbnail(obj)

    @admin.display(description="Near-duplicates")
    def duplicates(self, obj: ProductImage) -> str:
        if not obj.pk:
            return "—"
        return _from_graph(lambda: _duplicates_html(image_near_duplicates(obj.pk)))


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
    readonly_fields = ("similar_items",)
    inlines = [ProductImageInline]
    actions = ["reembed", "resync"]

    @admin.display(description="Images")
    def image_count(self, obj: Product) -> int:
        return obj.images.count()

    @admin.display(description="Similar items (SIMILAR_TO)")
    def similar_items(self, obj: Product) -> str:
        if not obj.pk:
            return "—"

        def read() -> str:
            matches = product_similar_list(product_id=obj.pk)
            return (
                format_html_join(
                    "",
                    '<div><a href="{}">{}</a> — {}</div>',
                    ((admin_change_url(m.product), m.product.name, f"{m.score:.3f}") for m in matches),
                )
                or "None yet (images pending, or nothing similar enough)."
            )

        return _from_graph(read)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list[BaseInlineFormSet], change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        saved = [
            obj.pk
            for formset in formsets
            if formset.model is ProductImage
            for obj in [*formset.new_objects, *(o for o, _ in formset.changed_objects)]
        ]
        if saved:
            # Registered after the images' sync callbacks, so with the immediate task backend (the default) it
            # runs once they are embedded and in the graph; with a queued one the images' column shows it later.
            transaction.on_commit(lambda: near_duplicates_warn(request, saved))

    @admin.action(description="Re-embed and re-sync the images of selected products")
    def reembed(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = images_reembed(
            image_ids=ProductImage.objects.filter(product__in=queryset).values_list("pk", flat=True)
        )
        self.message_user(request, f"{count} images queued for re-embedding.", messages.SUCCESS)

    @admin.action(description="Re-sync the images of selected products to the graph")
    def resync(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = images_resync(
            image_ids=ProductImage.objects.filter(product__in=queryset).values_list("pk", flat=True)
        )
        self.message_user(request, f"{count} images queued for re-sync.", messages.SUCCESS)


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    form = ProductImageForm
    list_display = (
        "thumbnail",
        "product",
        "position",
        "sync_status",
        "embedding_model",
        "synced_at",
        "error",
    )
    list_filter = ("sync_status", "embedding_model")
    search_fields = ("product__name",)
    readonly_fields = (
        "thumbnail",
        "content_hash",
        "sync_status",
        "sync_error",
        "synced_at",
        "embedding_model",
        "duplicates",
    )
    actions = ["reembed", "resync"]

    @admin.display(description="Preview")
    def thumbnail(self, obj: ProductImage) -> str:
        return _thumbnail(obj)

    @admin.display(description="Error")
    def error(self, obj: ProductImage) -> str:
        return obj.sync_error[:120] or "—"

    @admin.display(description="Near-duplicates")
    def duplicates(self, obj: ProductImage) -> str:
        return _from_graph(lambda: _duplicates_html(image_near_duplicates(obj.pk))) if obj.pk else "—"

    def save_model(self, request: HttpRequest, obj: ProductImage, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(lambda: near_duplicates_warn(request, [obj.pk]))

    @admin.action(description="Re-embed and re-sync selected images")
    def reembed(self, request: HttpRequest, queryset: QuerySet[ProductImage]) -> None:
        count = images_reembed(image_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} images queued for re-embedding.", messages.SUCCESS)

    @admin.action(description="Re-sync selected images to the graph (keep embeddings)")
    def resync(self, request: HttpRequest, queryset: QuerySet[ProductImage]) -> None:
        count = images_resync(image_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} images queued for re-sync.", messages.SUCCESS)
