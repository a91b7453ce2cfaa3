from __future__ import annotations

import logging

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from catalog.models import Category
from catalog.neighbourhood import neighbourhood_layout
from catalog.selectors import product_list
from insights.models import Interface
from insights.services import search_event_record
from search.graph import GraphUnavailable
from search.similarity import product_similar_list

logger = logging.getLogger("lookalike.views")


def product_list_view(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category") or None
    query = (request.GET.get("q") or "").strip()[:100]
    page = Paginator(product_list(category_slug=category, query=query or None), 24).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "catalog/product_list.html",
        {
            "page": page,
            "categories": Category.objects.all(),
            "category": category,
            "query": query,
        },
    )


def product_detail_view(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(product_list(), slug=slug)
    similar, similar_error, similar_event = [], "", None
    try:
        similar = product_similar_list(product_id=product.pk)
        similar_event = search_event_record(
            request=request, interface=Interface.PAGE, matches=similar, source_product_id=product.pk
        )
    except GraphUnavailable as exc:
        logger.warning("Similar items unavailable for %s: %s", product.pk, exc)
        similar_error = "Similar items are temporarily unavailable."
    graph = neighbourhood_layout(name=product.name, url=product.get_absolute_url(), matches=similar)
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "similar": similar,
            "similar_error": similar_error,
            "similar_event": similar_event,
            "graph": graph,
        },
    )
