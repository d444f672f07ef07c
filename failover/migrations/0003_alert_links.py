import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Moving alerts to the portal, while the table is still failover's: the links to pairs and appliances become
    generic (scope and target). 0003 adds the new columns, 0004 copies the links, 0005 drops the old columns, 0006
    hands the model to the portal. Apart because PostgreSQL refuses to change a table's schema in the transaction
    that changed its rows (pending constraint checks)."""

    dependencies = [
        ("failover", "0002_initial"),
        ("appliances", "0002_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert", name="scope_type",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="contenttypes.contenttype"),
        ),
        migrations.AddField(model_name="alert", name="scope_id",
                            field=models.PositiveBigIntegerField(blank=True, null=True)),
        migrations.AddField(
            model_name="alert", name="target_type",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="contenttypes.contenttype"),
        ),
        migrations.AddField(model_name="alert", name="target_id",
                            field=models.PositiveBigIntegerField(blank=True, null=True)),
    ]
