from __future__ import annotations

from django.db import models


class FitStatus(models.TextChoices):
    BUILDING = "building", "Building"  # its vectors, index and similar items are being written beside
    SERVED = "served", "Served"
    RETIRED = "retired", "Retired"  # switched away from; its graph nodes are dropped
    FAILED = "failed", "Failed"


class ProjectionFit(models.Model):
    """One fit of the catalog projection (search/projection.py). The graph serves a backbone plus a fit as
    one model key, `<backbone>__p<id>` (search/versions.py); a fit never changes once written, but for a
    good-match estimate filled in later (`good_match_estimated_at`)."""

    backbone = models.CharField(max_length=50)
    grouping = models.CharField(max_length=10)  # product, category or identity
    shrinkage = models.FloatField()
    dimensions = models.PositiveIntegerField()  # of the projected vectors
    groups = models.PositiveIntegerField(default=0)
    products = models.PositiveIntegerField()  # fitted on
    images = models.PositiveIntegerField()
    mean = models.BinaryField(null=True, editable=False)  # float32; both null for the identity
    matrix = models.BinaryField(null=True, editable=False)
    status = models.CharField(max_length=10, choices=FitStatus.choices, default=FitStatus.BUILDING)
    error = models.TextField(blank=True)
    # Progress while building, for the admin: the stage and how far it is.
    stage = models.CharField(max_length=100, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    fit_seconds = models.FloatField(default=0.0)
    # Item 5's options (search/head.py, search/augment.py): augmented views per image embedded at fit time,
    # and the epochs of a head trained on top of the whitening (0: whitening only).
    views = models.PositiveSmallIntegerField(default=0)
    head_epochs = models.PositiveSmallIntegerField(default=0)
    views_seconds = models.FloatField(default=0.0)  # part of fit_seconds: the CNN passes over the views
    # Thresholds calibrated on the catalog's own photos (search/calibration.py); null where not estimated
    # (older fits, the identity, too few photos). Served as search/versions.py `version_threshold` says.
    good_match_score = models.FloatField(null=True, blank=True)
    similar_min_score = models.FloatField(null=True, blank=True)
    # The held-out fit mostly; part of fit_seconds at the fit.
    calibration_seconds = models.FloatField(default=0.0)
    # When the good match was estimated (its value may still be null: too few photos). Null: not estimated,
    # since a fit estimates it only if it will be served (LOOKALIKE_PROJECTED_THRESHOLDS_FROM_FIT); turned
    # on later, the worker estimates the served fit's (search/fitting.py `fit_calibrate_served`).
    good_match_estimated_at = models.DateTimeField(null=True, blank=True)
    # Fitted by the workers' automatic fit (search/autofit.py), not by staff.
    automatic = models.BooleanField(default=False)
    # The highest image id fitted on: images above it are new since the fit (search/fitting.py `_images_changed`).
    last_image_pk = models.BigIntegerField(null=True, blank=True)
    fitted_at = models.DateTimeField(auto_now_add=True)
    served_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        get_latest_by = "pk"

    def __str__(self) -> str:
        return f"{self.version} ({self.grouping}, {self.dimensions}d, {self.status})"

    @property
    def version(self) -> str:
        return f"{self.backbone}__p{self.pk}"


class ProjectionTurnedOff(models.Model):
    """Staff turned the projection off (`fit_projection --off`): the workers' automatic fit (search/autofit.py)
    must not turn it on again behind their back. A row, so the choice outlives restarts and settings; at most
    one (pk 1); an explicit fit (`fit_projection`, the admin's "Fit a new projection") deletes it."""

    turned_off_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"projection turned off by staff at {self.turned_off_at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(cls) -> None:
        cls.objects.update_or_create(pk=1)


class ViewEmbedding(models.Model):
    """An augmented view's raw backbone vector (search/augment.py), kept by its photo's content hash and view
    number: a refit with views runs the CNN only for photos it has not seen, and a photo stored twice (or
    re-uploaded) reuses its views. Views of photos no longer in the catalog are dropped at the next fit."""

    backbone = models.CharField(max_length=50)
    content_hash = models.CharField(max_length=64)
    view = models.PositiveSmallIntegerField()
    vector = models.BinaryField()  # float32, unit length
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["backbone", "content_hash", "view"], name="search_view_embedding_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.backbone} view {self.view} of {self.content_hash[:12]}"
