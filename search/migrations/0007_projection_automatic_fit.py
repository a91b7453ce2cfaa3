# The workers' automatic fit (search/autofit.py): staff's "projection off" as a row the automatic fit respects,
# which fits it made, and each fit's last image id so a re-synced image counts once as changed, not twice.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0006_task_claim_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProjectionTurnedOff",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("turned_off_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.AddField(
            model_name="projectionfit",
            name="automatic",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="projectionfit",
            name="last_image_pk",
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
