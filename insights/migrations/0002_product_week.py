"""Daily product counts become weekly ones (issue 14, size: the daily rows outweighed the events)."""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import Sum


def days_into_weeks(apps, schema_editor):
    ProductWeek = apps.get_model("insights", "ProductWeek")
    rows = ProductWeek.objects.values("week", "product_id", "kind", "source_product_id").annotate(
        shown=Sum("shown"), opened=Sum("opened"), exposure=Sum("exposure")
    )
    merged: dict[tuple, list] = {}
    for row in rows:
        week = row["week"] - timedelta(days=row["week"].weekday())
        key = (week, row["product_id"], row["kind"], row["source_product_id"])
        total = merged.setdefault(key, [0, 0, 0.0])
        total[0] += row["shown"]
        total[1] += row["opened"]
        total[2] += row["exposure"]
    ProductWeek.objects.all().delete()
    ProductWeek.objects.bulk_create(
        ProductWeek(week=w, product_id=p, kind=k, source_product_id=s, shown=n, opened=o, exposure=e)
        for (w, p, k, s), (n, o, e) in merged.items()
    )


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="searchevent",
            name="source_product_id",
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.RemoveConstraint(model_name="productday", name="product_day_key"),
        migrations.RemoveIndex(model_name="productday", name="product_day_product"),
        migrations.RemoveIndex(model_name="productday", name="product_day_source"),
        migrations.RenameModel(old_name="ProductDay", new_name="ProductWeek"),
        migrations.RenameField(model_name="productweek", old_name="day", new_name="week"),
        migrations.RunPython(days_into_weeks, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="productweek",
            constraint=models.UniqueConstraint(
                fields=("source_product_id", "kind", "week", "product_id"), name="product_week_key"
            ),
        ),
        migrations.AddIndex(
            model_name="productweek",
            index=models.Index(fields=["product_id", "week"], name="product_week_product"),
        ),
    ]
