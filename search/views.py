from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.models import Product
from core.errors import ServiceError
from insights.models import Interface
from insights.services import search_event_record
from search.forms import PhotoSearchForm
from search.similarity import search_by_image

logger = logging.getLogger("lookalike.views")


def photo_search_view(request: HttpRequest) -> HttpResponse:
    # A photo is POSTed; "more like this" is a plain GET link (?liked=<id>), so both work without JS.
    searching = request.method == "POST" or "liked" in request.GET
    data = request.POST if request.method == "POST" else request.GET
    form = PhotoSearchForm(data, request.FILES) if searching else PhotoSearchForm(initial=request.GET.dict())
    context: dict = {
        "form": form,
        "results": None,
        "error": "",
        "liked_product": None,
        "filter_query": "",
        "disliked": "",
        "disliked_products": [],
        "max_upload_mib": settings.LOOKALIKE_MAX_UPLOAD_BYTES // 2**20,
        "max_upload_bytes": settings.LOOKALIKE_MAX_UPLOAD_BYTES,
    }
    status = 200
    if searching and form.is_valid():
        context["filter_query"] = urlencode(form.filter_query())
        liked_id = form.cleaned_data.get("liked")
        context["liked_product"] = Product.objects.filter(pk=liked_id).first() if liked_id else None
        disliked_ids = form.cleaned_data["disliked"]
        context["disliked"] = ",".join(str(i) for i in disliked_ids)
        context["disliked_products"] = list(Product.objects.filter(pk__in=disliked_ids).order_by("name"))
        try:
            context["results"] = search_by_image(
                upload=form.cleaned_data.get("photo"),
                crop=form.crop_box,
                where=form.product_filter,
                k=form.cleaned_data.get("k") or settings.LOOKALIKE_SEARCH_K,
                liked_ids=(liked_id,) if liked_id else (),
                disliked_ids=disliked_ids,
            )
            context["search_event"] = search_event_record(
                request=request,
                interface=Interface.PAGE,
                matches=context["results"],
                where=form.product_filter,
                liked_ids=(liked_id,) if liked_id else (),
                disliked_ids=disliked_ids,
                photo=form.cleaned_data.get("photo"),
                cropped=form.crop_box is not None,
            )
        except ServiceError as exc:  # the API answers the same status (core.errors)
            if exc.http_status >= 500:
                logger.warning("Photo search unavailable: %s", exc)
            context["error"], status = exc.message, exc.http_status
    elif searching:
        status = 400
    return render(request, "search/photo_search.html", context, status=status)
