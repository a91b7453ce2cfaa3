from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from search.embeddings import InvalidImage
from search.forms import PhotoSearchForm
from search.graph import GraphUnavailable
from search.similarity import search_by_image

logger = logging.getLogger("lookalike.views")


def photo_search_view(request: HttpRequest) -> HttpResponse:
    form = PhotoSearchForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form, "results": None, "error": ""}
    status = 200
    if request.method == "POST" and form.is_valid():
        k = form.cleaned_data.get("k") or settings.LOOKALIKE_SEARCH_K
        try:
            context["results"] = search_by_image(upload=form.cleaned_data["photo"], k=k)
        except InvalidImage as exc:
            context["error"], status = str(exc), 400
        except GraphUnavailable as exc:
            logger.warning("Photo search unavailable: %s", exc)
            context["error"], status = "Search is temporarily unavailable. Please try again in a minute.", 503
    elif request.method == "POST":
        status = 400
    return render(request, "search/photo_search.html", context, status=status)
