from django import forms


class PhotoSearchForm(forms.Form):
    photo = forms.FileField(label="Photo", widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
    k = forms.IntegerField(label="Results", min_value=1, max_value=48, initial=12, required=False)
