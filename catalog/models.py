from __future__ import annotations

import uuid
from typing import BinaryIO

from django.db import models
from django.urls import reverse
from PIL import Image


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    in_stock = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:product-detail", kwargs={"slug": self.slug})


# Stored files are named for what Pillow decoded, so a web server's type guess always says image/*.
FORMAT_SUFFIXES = {
    "JPEG": ".jpg",
    "MPO": ".jpg",
    "PNG": ".png",
    "WEBP": ".webp",
    "GIF": ".gif",
    "BMP": ".bmp",
    "TIFF": ".tif",
}


def _decoded_suffix(file: BinaryIO | None) -> str:
    if file is None:
        return ".bin"
    position = file.tell()
    try:
        file.seek(0)
        with Image.open(file) as image:
            return FORMAT_SUFFIXES.get(image.format or "", ".bin")
    except (OSError, ValueError, SyntaxError):
        return ".bin"  # never served as anything executable or renderable
    finally:
        file.seek(position)


def product_image_upload_to(instance: ProductImage, filename: str) -> str:
    # Never keep any part of the user-supplied name: a generated name, the extension from the decoded format.
    return f"products/{uuid.uuid4().hex}{_decoded_suffix(instance.image.file if instance.image else None)}"


class SyncStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=product_image_upload_to)
    position = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    # Projection into the graph: the embedding is kept here too, so Neo4j can be rebuilt without the model.
    sync_status = models.CharField(
        max_length=10, choices=SyncStatus.choices, default=SyncStatus.PENDING, db_index=True, editable=False
    )
    sync_error = models.TextField(blank=True, editable=False)
    synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=50, blank=True, editable=False)
    embedding = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.product} #{self.position}"
