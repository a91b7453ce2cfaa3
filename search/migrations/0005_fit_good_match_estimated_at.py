# A fit estimates its good-match score only when it will be served; fits calibrated at fit time before this
# (calibration_seconds > 0) did estimate it, when they were fitted.

from django.db import migrations, models


def calibrated_fits_mark(apps, schema_editor):
    fit_model = apps.get_model("search", "ProjectionFit")
    fit_model.objects.filter(calibration_seconds__gt=0).update(good_match_estimated_at=models.F("fitted_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0004_fit_calibrated_thresholds"),
    ]

    operations = [
        migrations.AddField(
            model_name="projectionfit",
            name="good_match_estimated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(calibrated_fits_mark, migrations.RunPython.noop),
    ]
