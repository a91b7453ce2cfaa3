from __future__ import annotations

from typing import Any

from django import forms

from catalog.forms import ProductFilterForm
from core.filters import id_list_parse

CROP_FIELDS = ("crop_x", "crop_y", "crop_w", "crop_h")
MAX_DISLIKED = 20


class PhotoSearchForm(ProductFilterForm):
    """Search by photo and/or "more like" products; works as a plain form, JS only fills the crop box."""

    photo = forms.FileField(
        label="Photo",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    # The region of the photo to search, in pixels of the photo as displayed; set by static/photo_search.js.
    crop_x = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    crop_y = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    crop_w = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    crop_h = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    liked = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    # "Less like this" links add product ids here: "12,40".
    disliked = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    k = forms.IntegerField(label="Results", min_value=1, max_value=48, initial=12, required=False)

    def clean_disliked(self) -> list[int]:
        invalid = f"Disliked products must be at most {MAX_DISLIKED} product ids separated by commas."
        try:
            ids = id_list_parse(self.cleaned_data.get("disliked") or "", max_items=MAX_DISLIKED)
        except ValueError:
            raise forms.ValidationError(invalid) from None
        if any(i < 1 for i in ids):
            raise forms.ValidationError(invalid)
        return list(ids)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("photo") and not data.get("liked"):
            raise forms.ValidationError("Choose a photo to search with.")
        crop = [data.get(name) for name in CROP_FIELDS]
        if any(v is not None for v in crop) and None in crop:
            raise forms.ValidationError("The crop box needs x, y, width and height.")
        return data

    @property
    def crop_box(self) -> tuple[int, int, int, int] | None:
        crop = tuple(self.cleaned_data.get(name) for name in CROP_FIELDS)
        return crop if self.cleaned_data.get("photo") and None not in crop else None  # type: ignore[return-value]

    def filter_query(self) -> dict[str, str]:
        """The filters as query parameters, so "more like this" links keep them."""
        names = ("category", "min_price", "max_price", "in_stock", "k")
        return {name: str(self.data[name]) for name in names if self.data.get(name) not in (None, "")}
