from django.db import migrations


class Migration(migrations.Migration):
    """Second half: the alert model belongs to the portal now. Only Django's picture changes here; the table
    (rows included) is taken over by portal 0002 as it is, and renamed by portal 0003."""

    dependencies = [("failover", "0005_alert_old_links_removed")]
    # Declared here, not in the portal: the portal's migrations never name an app above it.
    run_before = [("portal", "0002_alert")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Alert")],
            database_operations=[],
        ),
    ]
