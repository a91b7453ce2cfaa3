from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from catalog.forms import ProductImageForm
from catalog.models import Category, Product, ProductImage
from catalog.services import (
    category_delete,
    category_save,
    product_delete,
    product_image_add,
    product_image_delete,
    product_image_update,
    product_save,
)
from catalog.thumbnails import thumbnail_url
from search.duplicates import NearDuplicate, image_near_duplicates, images_near_duplicates
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
        found = self._product_duplicates(obj.product_id)
        return found if isinstance(found, str) else _duplicates_html(found.get(obj.pk, []))

    def _product_duplicates(self, product_id: int) -> dict[int, list[NearDuplicate]] | str:
        # One graph query for all the product's images, not one per row (inlines are made per request).
        cached = getattr(self, "_duplicates_by_product", {})
        if product_id not in cached:
            image_ids = list(ProductImage.objects.filter(product_id=product_id).values_list("pk", flat=True))
            try:
                cached[product_id] = images_near_duplicates(image_ids)
            except GraphUnavailable as exc:
                logger.warning("Admin graph read failed: %s", exc)
                cached[product_id] = GRAPH_DOWN
            self._duplicates_by_product = cached
        return cached[product_id]


def _image_form_save(form: ModelForm, *, product: Product) -> tuple[ProductImage, list[str]] | None:
    """Save one image form through the services: (the image, its changed fields), or None if unchanged."""
    if not form.has_changed() and form.instance.pk:
        return None
    upload = form.cleaned_data.get("image")
    upload = upload if isinstance(upload, UploadedFile) else None  # a new file, not the one already stored
    position = form.cleaned_data.get("position")
    if form.instance.pk is None:
        if upload is None:
            return None
        form.instance = product_image_add(
            product=product, file=upload, filename=upload.name or "", position=position
        )
    else:
        product_image_update(
            image=form.instance,
            file=upload,
            filename=(upload.name or "") if upload else "",
            position=position,
        )
    return form.instance, form.changed_data


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: Category, form: ModelForm, change: bool) -> None:
        category_save(category=obj)

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        category_delete(category=obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        for category in queryset:
            category_delete(category=category)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "price", "in_stock", "image_count", "updated_at")
    list_filter = ("category", "in_stock")
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("similar_items",)
    inlines = [ProductImageInline]
    actions = ["reembed", "resync"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        # One query for the list page: the category and the image count come with each row.
        return super().get_queryset(request).select_related("category").annotate(image_total=Count("images"))

    @admin.display(description="Images", ordering="image_total")
    def image_count(self, obj: Product) -> int:
        return obj.image_total  # type: ignore[attr-defined]

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm, change: bool) -> None:
        product_save(product=obj)

    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        product_delete(product=obj)  # with its images' files

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        for product in queryset:
            product_delete(product=product)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        if formset.model is not ProductImage:
            super().save_formset(request, form, formset, change)
            return
        # What Django's formset.save() would do, through the services; the admin's change message reads
        # these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for image_form in formset.deleted_forms:
            if image_form.instance.pk:
                product_image_delete(image=image_form.instance)
                formset.deleted_objects.append(image_form.instance)
        for image_form in formset.forms:
            if image_form in formset.deleted_forms:
                continue
            was_new = image_form.instance.pk is None
            saved = _image_form_save(image_form, product=form.instance)
            if saved and was_new:
                formset.new_objects.append(saved[0])
            elif saved:
                formset.changed_objects.append(saved)

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
        saved = _image_form_save(form, product=form.cleaned_data.get("product") or obj.product)
        if saved:
            obj.pk = saved[0].pk  # the admin goes on with `obj` (message, redirect)
            transaction.on_commit(lambda: near_duplicates_warn(request, [obj.pk]))

    def delete_model(self, request: HttpRequest, obj: ProductImage) -> None:
        product_image_delete(image=obj)  # with its file

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ProductImage]) -> None:
        for image in queryset:
            product_image_delete(image=image)

    @admin.action(description="Re-embed and re-sync selected images")
    def reembed(self, request: HttpRequest, queryset: QuerySet[ProductImage]) -> None:
        count = images_reembed(image_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} images queued for re-embedding.", messages.SUCCESS)

    @admin.action(description="Re-sync selected images to the graph (keep embeddings)")
    def resync(self, request: HttpRequest, queryset: QuerySet[ProductImage]) -> None:
        count = images_resync(image_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} images queued for re-sync.", messages.SUCCESS)
