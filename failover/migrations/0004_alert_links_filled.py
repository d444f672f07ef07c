from django.db import migrations
from django.db.models import F


def links_from_columns(apps, schema_editor):
    """An alert's pair becomes its scope and its appliance its target (generic references the portal can hold
    without knowing either model)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Alert = apps.get_model("failover", "Alert")
    db = schema_editor.connection.alias
    pair_type, _ = ContentType.objects.using(db).get_or_create(app_label="failover", model="pair")
    appliance_type, _ = ContentType.objects.using(db).get_or_create(app_label="appliances", model="appliance")
    Alert.objects.using(db).filter(pair__isnull=False).update(scope_type=pair_type, scope_id=F("pair_id"))
    Alert.objects.using(db).filter(appliance__isnull=False).update(target_type=appliance_type, target_id=F("appliance_id"))


def columns_from_links(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Alert = apps.get_model("failover", "Alert")
    db = schema_editor.connection.alias
    pair_type = ContentType.objects.using(db).filter(app_label="failover", model="pair").first()
    appliance_type = ContentType.objects.using(db).filter(app_label="appliances", model="appliance").first()
    if pair_type:
        Alert.objects.using(db).filter(scope_type=pair_type).update(pair_id=F("scope_id"))
    if appliance_type:
        Alert.objects.using(db).filter(target_type=appliance_type).update(appliance_id=F("target_id"))


class Migration(migrations.Migration):

    dependencies = [("failover", "0003_alert_links")]

    operations = [migrations.RunPython(links_from_columns, columns_from_links)]
