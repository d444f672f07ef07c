"""The restack moved models between apps (RMA cases out of appliances into rma, alerts out of failover into the
portal). A database created at the migrations from before the move, with rows in every moved table, migrates
forward to the new layout with every row kept, its ids, its links and what names it (content types, audit)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from portal.models import Alert, AuditEvent
from rma.models import ApplianceHardwareRecord, RmaAttachment, RmaCase, RmaStep

#: The leaf migrations of the apps involved before the restack ("today's migrations" when it was written).
BEFORE_THE_MOVE = [
    ("portal", "0001_initial"),
    ("appliances", "0002_initial"),
    ("failover", "0002_initial"),
    ("rma", None),
]
MOVED_TABLES = ("appliances_rmacase", "appliances_rmastep", "appliances_rmaattachment",
                "appliances_appliancehardwarerecord", "failover_alert")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _old_world(apps) -> dict:
    """One row in every moved table (and what they link to), written with the models as they were."""
    now = timezone.now()
    Organization = apps.get_model("portal", "Organization")
    User = apps.get_model("portal", "User")
    Appliance = apps.get_model("appliances", "Appliance")
    Pair = apps.get_model("failover", "Pair")
    AuditEvent = apps.get_model("portal", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    org = Organization.objects.create(name="Moved Ltd", slug="moved")
    user = User.objects.create(username="mover")
    primary = Appliance.objects.create(organization=org, name="a", management_host="127.0.0.10", tls_pin="ab" * 32)
    backup = Appliance.objects.create(organization=org, name="b", management_host="127.0.0.11", tls_pin="cd" * 32)
    pair = Pair.objects.create(organization=org, site_hostname="moved.example.com", primary=primary, backup=backup,
                               backup_host="127.0.0.11", reverse_host="127.0.0.10")
    RmaCase = apps.get_model("appliances", "RmaCase")
    case = RmaCase.objects.create(organization=org, appliance=backup, pair=pair, opened_by=user, reason="PSU",
                                  vendor_case_number="VC-1", status="waiting_vendor", defective_serial="OLD1")
    step = apps.get_model("appliances", "RmaStep").objects.create(
        organization=org, case=case, key="received", position=1, state="done", done_at=now, done_by=user,
        details={"replacement_serial": "NEW1"})
    attachment = apps.get_model("appliances", "RmaAttachment").objects.create(
        organization=org, case=case, step=step, token="t" * 16, file=f"rma/{org.pk}/{case.pk}/{'t' * 16}",
        original_name="label.pdf", content_type="application/pdf", size_bytes=123, uploaded_by=user)
    record = apps.get_model("appliances", "ApplianceHardwareRecord").objects.create(
        organization=org, appliance=backup, case=case, event="removed", model="B300", serial_number="OLD1")
    Alert = apps.get_model("failover", "Alert")
    about_pair = Alert.objects.create(organization=org, kind="countdown", severity="critical", pair=pair,
                                      appliance=primary, dedup_key="countdown:1", subject="down", body="b",
                                      recipients=["noc@example.com"], sent_at=now)
    about_appliance = Alert.objects.create(organization=org, kind="backup_failed", appliance=backup,
                                           dedup_key="backup_failed:2", subject="backup", body="b",
                                           delivery_error="smtp down")
    AuditEvent.objects.create(organization=org, actor=user, actor_name="mover", action="create",
                              object_type="appliances.rmacase", object_id=str(case.pk), object_repr="RMA")
    # A database that has been running has its content types; permissions and admin log point at them.
    case_type, _ = ContentType.objects.get_or_create(app_label="appliances", model="rmacase")
    alert_type, _ = ContentType.objects.get_or_create(app_label="failover", model="alert")
    return {"org": org.pk, "primary": primary.pk, "backup": backup.pk, "pair": pair.pk, "user": user.pk,
            "case": case.pk, "step": step.pk, "attachment": attachment.pk, "record": record.pk,
            "about_pair": about_pair.pk, "about_appliance": about_appliance.pk,
            "case_type": case_type.pk, "alert_type": alert_type.pk}


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_every_row():
    leaves = _leaves()
    try:
        executor = _migrate(BEFORE_THE_MOVE)
        with connection.cursor() as cursor:
            tables = set(connection.introspection.table_names(cursor))
        assert set(MOVED_TABLES) <= tables  # the old layout, as a database from before the move has it
        old = _old_world(executor.loader.project_state([t for t in BEFORE_THE_MOVE if t[1]]).apps)

        _migrate(leaves)
        ContentType.objects.clear_cache()
    finally:
        _migrate(leaves)

    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    assert not set(MOVED_TABLES) & tables
    assert {"rma_rmacase", "rma_rmastep", "rma_rmaattachment", "rma_appliancehardwarerecord", "portal_alert"} <= tables

    case = RmaCase.objects.get(pk=old["case"])
    assert (case.organization_id, case.appliance_id, case.pair_id, case.opened_by_id) == (
        old["org"], old["backup"], old["pair"], old["user"])
    assert (case.reason, case.vendor_case_number, case.status, case.defective_serial) == (
        "PSU", "VC-1", "waiting_vendor", "OLD1")
    step = RmaStep.objects.get(pk=old["step"])
    assert (step.case_id, step.key, step.state, step.done_by_id, step.details) == (
        case.pk, "received", "done", old["user"], {"replacement_serial": "NEW1"})
    attachment = RmaAttachment.objects.get(pk=old["attachment"])
    assert (attachment.case_id, attachment.step_id, attachment.original_name, attachment.size_bytes) == (
        case.pk, step.pk, "label.pdf", 123)
    assert attachment.file.name == f"rma/{old['org']}/{case.pk}/{'t' * 16}"
    record = ApplianceHardwareRecord.objects.get(pk=old["record"])
    assert (record.appliance_id, record.case_id, record.serial_number) == (old["backup"], case.pk, "OLD1")

    about_pair = Alert.objects.get(pk=old["about_pair"])
    assert (about_pair.pair_id, about_pair.appliance_id, about_pair.kind, about_pair.recipients) == (
        old["pair"], old["primary"], "countdown", ["noc@example.com"])
    assert about_pair.sent_at is not None
    about_appliance = Alert.objects.get(pk=old["about_appliance"])
    assert (about_appliance.pair_id, about_appliance.appliance_id, about_appliance.delivery_error) == (
        None, old["backup"], "smtp down")
    assert set(Alert.objects.filter(pair=old["pair"]).values_list("pk", flat=True)) == {about_pair.pk}
    assert set(Alert.objects.filter(appliance=old["backup"]).values_list("pk", flat=True)) == {about_appliance.pk}

    # What named the moved models follows them: same content type rows, audit entries under the new label.
    assert ContentType.objects.get(pk=old["case_type"]).app_label == "rma"
    assert ContentType.objects.get(pk=old["alert_type"]).app_label == "portal"
    assert AuditEvent.objects.get(object_id=str(case.pk), actor_name="mover").object_type == "rma.rmacase"
