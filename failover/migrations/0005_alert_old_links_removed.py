from django.db import migrations, models

import portal.alerts


class Migration(migrations.Migration):

    dependencies = [("failover", "0004_alert_links_filled")]

    operations = [
        migrations.RemoveField(model_name="alert", name="pair"),
        migrations.RemoveField(model_name="alert", name="appliance"),
        migrations.AlterField(
            model_name="alert", name="kind",
            field=models.CharField(choices=portal.alerts.alert_kind_choices, max_length=24),
        ),
        migrations.AddIndex(model_name="alert",
                            index=models.Index(fields=["scope_type", "scope_id"], name="alert_scope")),
        migrations.AddIndex(model_name="alert",
                            index=models.Index(fields=["target_type", "target_id"], name="alert_target")),
    ]
