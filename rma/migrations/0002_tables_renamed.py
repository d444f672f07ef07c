from django.db import migrations

MOVED_MODELS = ("rmacase", "rmastep", "rmaattachment", "appliancehardwarerecord")


def follow_the_move(apps, schema_editor):
    """What names the moved models by app label follows them: their content types (and so their permissions and
    admin log entries) and the audit log's object types, so an RMA case's history reads as one."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEvent = apps.get_model("portal", "AuditEvent")
    db = schema_editor.connection.alias
    for model in MOVED_MODELS:
        if not ContentType.objects.using(db).filter(app_label="rma", model=model).exists():
            ContentType.objects.using(db).filter(app_label="appliances", model=model).update(app_label="rma")
        AuditEvent.objects.using(db).filter(object_type=f"appliances.{model}").update(object_type=f"rma.{model}")


def back_where_they_were(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEvent = apps.get_model("portal", "AuditEvent")
    db = schema_editor.connection.alias
    for model in MOVED_MODELS:
        if not ContentType.objects.using(db).filter(app_label="appliances", model=model).exists():
            ContentType.objects.using(db).filter(app_label="rma", model=model).update(app_label="appliances")
        AuditEvent.objects.using(db).filter(object_type=f"rma.{model}").update(object_type=f"appliances.{model}")


class Migration(migrations.Migration):

    dependencies = [
        ("rma", "0001_initial"),
        ("portal", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # The tables take this app's names (a rename: rows, ids and foreign keys stay as they are).
    operations = [
        migrations.AlterModelTable(name="appliancehardwarerecord", table=None),
        migrations.AlterModelTable(name="rmaattachment", table=None),
        migrations.AlterModelTable(name="rmacase", table=None),
        migrations.AlterModelTable(name="rmastep", table=None),
        migrations.RunPython(follow_the_move, back_where_they_were),
    ]
