"""Receivers only enqueue graph work, after commit, by primary key."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from catalog.models import Category, Product, ProductImage
from search import tasks


def image_saved(sender: Any, instance: ProductImage, **kwargs: Any) -> None:
    tasks.image_sync_on_commit(instance.pk)


def image_deleted(sender: Any, instance: ProductImage, **kwargs: Any) -> None:
    tasks.image_unindex_on_commit(instance.pk, instance.product_id)


def product_saved(sender: Any, instance: Product, created: bool, **kwargs: Any) -> None:
    if not created:
        tasks.product_sync_on_commit(instance.pk)


def product_deleted(sender: Any, instance: Product, **kwargs: Any) -> None:
    tasks.product_unindex_on_commit(instance.pk)


def category_saved(sender: Any, instance: Category, created: bool, **kwargs: Any) -> None:
    if not created:  # a new category has no products in the graph yet
        tasks.category_sync_on_commit(instance.pk)


def connect() -> None:
    post_save.connect(image_saved, sender=ProductImage, dispatch_uid="search.image_saved")
    post_delete.connect(image_deleted, sender=ProductImage, dispatch_uid="search.image_deleted")
    post_save.connect(product_saved, sender=Product, dispatch_uid="search.product_saved")
    post_delete.connect(product_deleted, sender=Product, dispatch_uid="search.product_deleted")
    post_save.connect(category_saved, sender=Category, dispatch_uid="search.category_saved")
