from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from catalog.models import Category, ProductImage
from core.filters import ProductFilter, product_filter_from
from core.images import InvalidImage, upload_image_check


class ProductImageForm(forms.ModelForm):
    """Admin uploads pass the API's checks too: byte and pixel limits, decodable, a still image.

    Django's own ImageField check only catches files Pillow cannot open at all.
    """

    class Meta:
        model = ProductImage
        fields = ["product", "image", "position"]

    def clean_image(self) -> object:
        file = self.cleaned_data.get("image")
        if isinstance(file, UploadedFile):  # a new upload, not the file already stored
            try:
                upload_image_check(file)
            except InvalidImage as exc:
                raise forms.ValidationError(str(exc)) from exc
        return file


class ProductFilterForm(forms.Form):
    """Category, price range and stock: the filters the product list and search by photo share."""

    category = forms.ModelChoiceField(
        queryset=Category.objects.all(), to_field_name="slug", required=False, empty_label="All categories"
    )
    min_price = forms.DecimalField(label="Price from", min_value=0, decimal_places=2, required=False)
    max_price = forms.DecimalField(label="to", min_value=0, decimal_places=2, required=False)
    in_stock = forms.BooleanField(label="In stock only", required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        low, high = self.cleaned_data.get("min_price"), self.cleaned_data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The upper price must not be below the lower one.")
        return self.cleaned_data

    @property
    def product_filter(self) -> ProductFilter:
        # An unticked "in stock only" box means any stock, not "out of stock only".
        cleaned = self.cleaned_data if self.is_valid() else {}
        return product_filter_from({**cleaned, "in_stock": cleaned.get("in_stock") or None})


class ProductListForm(ProductFilterForm):
    """The shop's product list filters (GET): the name, and the filters search by photo offers. A field that
    does not validate is shown with its error, and the list is empty."""

    q = forms.CharField(label="Name", max_length=100, required=False)

    @property
    def name_query(self) -> str | None:
        return ((self.cleaned_data if self.is_valid() else {}).get("q") or "").strip() or None
