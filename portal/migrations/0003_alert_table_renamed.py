from django.db import migrations


def follow_the_move(apps, schema_editor):
    """The alert's content type (permissions, admin log) and the audit log's object type follow the model."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEvent = apps.get_model("portal", "AuditEvent")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="portal", model="alert").exists():
        ContentType.objects.using(db).filter(app_label="failover", model="alert").update(app_label="portal")
    AuditEvent.objects.using(db).filter(object_type="failover.alert").update(object_type="portal.alert")


def back_where_it_was(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEvent = apps.get_model("portal", "AuditEvent")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="failover", model="alert").exists():
        ContentType.objects.using(db).filter(app_label="portal", model="alert").update(app_label="failover")
    AuditEvent.objects.using(db).filter(object_type="portal.alert").update(object_type="failover.alert")


class Migration(migrations.Migration):

    dependencies = [("portal", "0002_alert")]

    # A rename: rows, ids and foreign keys stay as they are.
    operations = [
        migrations.AlterModelTable(name="alert", table=None),
        migrations.RunPython(follow_the_move, back_where_it_was),
    ]
