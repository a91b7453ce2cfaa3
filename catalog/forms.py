from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

from catalog.models import ProductImage
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
