from __future__ import annotations

import logging

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from catalog.forms import ProductListForm
from catalog.neighbourhood import neighbourhood_layout
from catalog.selectors import product_list
from insights.models import Interface
from insights.services import search_event_record
from search.graph import GraphUnavailable
from search.similarity import product_similar_list

logger = logging.getLogger("lookalike.views")


def product_list_view(request: HttpRequest) -> HttpResponse:
    form = ProductListForm(request.GET)
    chosen = form.product_filter
    products = product_list(
        category_slug=chosen.category_slug,
        query=form.name_query,
        min_price=chosen.min_price,
        max_price=chosen.max_price,
        in_stock=chosen.in_stock,
    )
    if not form.is_valid():  # an unknown category or a bad price matches nothing; the errors say why
        products = products.none()
    page = Paginator(products, 24).get_page(request.GET.get("page"))
    return render(request, "catalog/product_list.html", {"page": page, "form": form})


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
