from django.db import migrations, models

from portal.db import AddIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction; built without blocking the probes' writes.
    atomic = False

    dependencies = [
        ('appliances', '0008_appliance_location'),
        ('failover', '0015_advice_findings'),
        ('portal', '0005_notifications'),
    ]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name='pair',
            index=models.Index(fields=['state', 'state_since', 'site_hostname'], name='pair_healthy_order'),
        ),
    ]
