"""The projection fits: which one is served, how far the catalog has moved since, and fitting a new one."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from search.fitting import projection_off_on_commit, projection_refit_on_commit
from search.models import FitStatus, ProjectionFit


@admin.register(ProjectionFit)
class ProjectionFitAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "status",
        "progress",
        "grouping",
        "groups",
        "dimensions",
        "views",
        "head_epochs",
        "good_match_score",
        "similar_min_score",
        "products",
        "images",
        "fitted_at",
        "served_at",
        "fit_seconds",
        "automatic",
    )
    list_filter = ("status", "backbone", "automatic")
    readonly_fields = [field.name for field in ProjectionFit._meta.fields] + ["version", "progress"]
    change_list_template = "admin/search/projectionfit/change_list.html"

    @admin.display(description="progress")
    def progress(self, fit: ProjectionFit) -> str:
        if fit.status != FitStatus.BUILDING:
            return fit.error[:200] if fit.status == FitStatus.FAILED else "—"
        return f"{fit.stage}: {fit.done}/{fit.total}" if fit.stage else "fitting"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # fits come from the data: "Fit a new projection", or manage.py fit_projection

    def has_delete_permission(self, request: HttpRequest, obj: ProjectionFit | None = None) -> bool:
        # The served fit's projection maps every query; a building one is still being written to.
        return obj is not None and obj.status in (FitStatus.RETIRED, FitStatus.FAILED)

    def get_urls(self):
        fit_url = path("fit/", self.admin_site.admin_view(self.fit_view), name="search_projectionfit_fit")
        off_url = path("off/", self.admin_site.admin_view(self.off_view), name="search_projectionfit_off")
        return [fit_url, off_url, *super().get_urls()]

    def _staff_post(self, request: HttpRequest) -> HttpResponseNotAllowed | None:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        return None

    def off_view(self, request: HttpRequest) -> HttpResponseRedirect:
        # The automatic fit (search/autofit.py) would otherwise refit: staff need a way back to the raw backbone
        # without the command line, and it must stick until they fit again.
        if refused := self._staff_post(request):
            return refused  # type: ignore[return-value]
        with transaction.atomic():
            projection_off_on_commit()
        messages.info(
            request,
            "Serving the raw backbone again: its version is built if needed and switched to when ready. The "
            "workers will not fit automatically until a projection is fitted here or with fit_projection.",
        )
        return HttpResponseRedirect(reverse("admin:search_projectionfit_changelist"))

    def fit_view(self, request: HttpRequest) -> HttpResponseRedirect:
        if refused := self._staff_post(request):
            return refused  # type: ignore[return-value]
        if ProjectionFit.objects.filter(status=FitStatus.BUILDING).exists():
            messages.warning(request, "A projection is being fitted already; its progress is shown below.")
        else:
            with transaction.atomic():
                projection_refit_on_commit()
            messages.info(
                request,
                "Fitting a new projection: it is built beside the served one and switched to when ready. "
                "Reload this page to follow its progress.",
            )
        return HttpResponseRedirect(reverse("admin:search_projectionfit_changelist"))
