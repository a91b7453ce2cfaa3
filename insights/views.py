from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404

from catalog.models import Product
from insights.middleware import session_id_known
from insights.services import click_record


def result_open_view(request: HttpRequest, event_id: int, rank: int, product_id: int) -> HttpResponse:
    """A result link on a shop page: count the click (if it checks out), then go to the product.
    The redirect goes only to the product named, so the link cannot send shoppers elsewhere."""
    product = get_object_or_404(Product, pk=product_id)
    session_id = session_id_known(request)
    click_record(
        event_id=event_id,
        product_id=product_id,
        rank=rank,
        session_id=session_id,
        rate_key=session_id or request.META.get("REMOTE_ADDR", ""),
    )
    response = HttpResponseRedirect(product.get_absolute_url())
    response["X-Robots-Tag"] = "noindex"
    return response
