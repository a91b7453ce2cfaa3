"""Staff views of the event log, in the admin: Shopper insights > Search events opens the overview."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path

from catalog.models import Product
from insights import selectors
from insights.charts import bar_chart
from insights.models import SearchEvent, SearchKind
from search.versions import fit_threshold_served

DAYS = 30


@admin.register(SearchEvent)
class SearchEventAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("demand/", view(self.demand_view), name="insights_demand"),
            path("product/<int:product_id>/", view(self.product_view), name="insights_product"),
            path("thumbnail/<int:event_id>/", view(self.thumbnail_view), name="insights_thumbnail"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: object) -> dict:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "days": DAYS,
            "good_match_score": (
                f"{settings.LOOKALIKE_INSIGHTS_GOOD_MATCH_SCORE} "
                f"({settings.LOOKALIKE_INSIGHTS_PROJECTED_GOOD_MATCH_SCORE} under a catalog projection"
                f"{' unless its fit calibrated its own' if fit_threshold_served('good_match_score') else ''})"
            ),
            "thumbnail_days": settings.LOOKALIKE_INSIGHTS_THUMBNAIL_DAYS,
            **extra,
        }

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        days = selectors.searches_per_day(days=DAYS)
        search_ranks = selectors.clicks_by_rank(days=DAYS, kinds=selectors.SEARCH_KINDS)
        strip_ranks = selectors.clicks_by_rank(days=DAYS, kinds=(SearchKind.SIMILAR,), ranks=8)
        context = self._context(
            request,
            "What shoppers look for",
            per_day=days,
            per_day_chart=bar_chart(
                [d.searches for d in days],
                [
                    d.day.strftime("%d %b") if i % max(1, len(days) // 10) == 0 else ""
                    for i, d in enumerate(days)
                ],
                titles=[f"{d.day}: {d.searches} searches" for d in days],
                x_title="day",
                y_title="searches",
            ),
            totals={
                "searches": sum(d.searches for d in days),
                "good": sum(d.good for d in days),
                "strips": sum(d.strips for d in days),
            },
            search_ctr_chart=self._ctr_chart(search_ranks, "searches by photo or liked products"),
            strip_ctr_chart=self._ctr_chart(strip_ranks, "similar-items strips"),
            search_ranks=search_ranks,
            top_products=selectors.products_top(days=DAYS),
        )
        return TemplateResponse(request, "admin/insights/overview.html", context)

    @staticmethod
    def _ctr_chart(ranks: list[selectors.RankRate], what: str):
        return bar_chart(
            [r.rate * 100 for r in ranks],
            [str(r.rank) for r in ranks],
            value_format="{:.1f}%",
            titles=[f"rank {r.rank}: {r.clicks} opened of {r.shown} shown" for r in ranks],
            x_title=f"rank in {what}",
            y_title="opened",
        )

    def demand_view(self, request: HttpRequest) -> HttpResponse:
        context = self._context(
            request, "Demand the catalog does not meet", demand=selectors.demand_unmet(days=DAYS)
        )
        return TemplateResponse(request, "admin/insights/demand.html", context)

    def product_view(self, request: HttpRequest, product_id: int) -> HttpResponse:
        product = get_object_or_404(Product, pk=product_id)
        context = self._context(
            request,
            f"How shoppers find {product.name}",
            product=product,
            insights=selectors.product_insights(product_id=product_id, days=DAYS),
        )
        return TemplateResponse(request, "admin/insights/product.html", context)

    def thumbnail_view(self, request: HttpRequest, event_id: int) -> HttpResponse:
        self._context(request, "")  # staff with view permission only
        jpeg = selectors.thumbnail_jpeg_get(event_id=event_id)
        if jpeg is None:
            raise Http404("No thumbnail kept for this search.")
        response = HttpResponse(jpeg, content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response
