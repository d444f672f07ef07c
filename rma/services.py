"""Hardware replacement (RMA) cases: the services that open a case, record its steps (rules in ``rma_rules``),
keep attachments and put the replacement in the defective appliance's place.

Each step records who did it, when, notes and what was checked. A step is refused while a step it depends on
is not done, and the refusal says which one and why (the same text the UI shows next to the step).
"""

import copy
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appliances.connect import ClientPurpose, appliance_client, client_for, contact_failure_text
from appliances.drivers import ApplianceError, TrustSettings
from appliances.models import Appliance, ApplianceProbeStatus, BackupStatus, ConfigurationBackup
from failover.models import OperationKind
from failover.selectors import appliance_pairs
from failover.services.operations import operation_start
from failover.services.pairs import pair_establish
from portal.models import AuditAction, Role
from portal.permissions import require_role
from portal.services.audit import audit_create, audit_record
from portal.services.common import model_update

from .models import (
    ApplianceHardwareRecord,
    HardwareEvent,
    RestorePath,
    RmaAttachment,
    RmaCase,
    RmaStatus,
    RmaStep,
    RmaStepKey,
    RmaStepState,
)
from .rules import FACTORY_DEFAULT_LOGIN_REMINDER, STEP_ORDER, STEP_RULES, case_status, step_blockers

K = RmaStepKey


# -- opening a case ----------------------------------------------------------------------------------------


def _pair_of(appliance: Appliance):
    return appliance_pairs(appliance=appliance).first()


@transaction.atomic
def rma_open(*, actor, appliance: Appliance, reason: str, vendor_case_number: str = "") -> RmaCase:
    require_role(actor, appliance.organization_id, Role.OPERATOR)
    appliance = Appliance.objects.select_for_update().get(pk=appliance.pk)
    now = timezone.now()
    case = RmaCase(
        organization_id=appliance.organization_id,
        appliance=appliance,
        pair=_pair_of(appliance),
        opened_by=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        vendor_case_number=vendor_case_number,
        status=RmaStatus.OPEN,
        status_since=now,
        defective_model=appliance.model,
        defective_serial=appliance.serial_number,
        defective_guid=appliance.appliance_guid,
    )
    case.full_clean()
    case.save()
    RmaStep.objects.bulk_create(
        RmaStep(organization_id=case.organization_id, case=case, key=key, position=index)
        for index, key in enumerate(STEP_ORDER, start=1)
    )
    audit_create(actor=actor, instance=case)
    return case


# -- attachments -------------------------------------------------------------------------------------------

# Sniffed from the content, never taken from the browser's claim.
ALLOWED_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"%PDF-": "application/pdf"}


def sniff_content_type(head: bytes) -> str | None:
    return next((kind for magic, kind in ALLOWED_SIGNATURES.items() if head.startswith(magic)), None)


def rma_attach(*, actor, case: RmaCase, upload, step: RmaStep | None = None) -> RmaAttachment:
    require_role(actor, case.organization_id, Role.OPERATOR)
    max_bytes = settings.RMA_ATTACHMENT_MAX_BYTES
    if upload.size > max_bytes:
        raise ValidationError({"attachment": f"An attachment is at most {max_bytes // (1024 * 1024)} MiB."})
    upload.seek(0)
    content_type = sniff_content_type(upload.read(16))
    upload.seek(0)
    if content_type is None:
        raise ValidationError({"attachment": "Attach a PNG or JPEG image, or a PDF."})
    attachment = RmaAttachment(
        organization_id=case.organization_id,
        case=case,
        step=step,
        token=secrets.token_hex(16),
        original_name=(upload.name or "attachment")[-200:],
        content_type=content_type,
        size_bytes=upload.size,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    attachment.file.save(attachment.token, upload, save=False)
    attachment.save()
    audit_create(actor=actor, instance=attachment, organization=case.organization)
    return attachment


# -- the replacement takes the defective appliance's place -------------------------------------------------


@transaction.atomic
def appliance_hardware_swap(*, actor, case: RmaCase, identity: dict) -> Appliance:
    """Give the inventory slot the replacement's identity; the row (and so its pairs) stays, and both the
    outgoing and the incoming hardware are recorded in the slot's history."""
    appliance = Appliance.objects.select_for_update().get(pk=case.appliance_id)
    case_old_host = appliance.management_host
    common = {"organization_id": appliance.organization_id, "appliance": appliance, "case": case,
              "recorded_by": actor if getattr(actor, "pk", None) else None}
    ApplianceHardwareRecord.objects.create(
        event=HardwareEvent.REMOVED, model=appliance.model, serial_number=appliance.serial_number,
        appliance_guid=appliance.appliance_guid, management_host=appliance.management_host,
        management_port=appliance.management_port, **common,
    )
    appliance, _ = model_update(actor=actor, instance=appliance, data=identity, fields=list(identity))
    ApplianceHardwareRecord.objects.create(
        event=HardwareEvent.INSTALLED, model=appliance.model, serial_number=appliance.serial_number,
        appliance_guid=appliance.appliance_guid, management_host=appliance.management_host,
        management_port=appliance.management_port, **common,
    )
    _pair_follows(actor=actor, case=case, old_host=case_old_host, new_host=appliance.management_host)
    # The probe loop owns the status columns: ask it to look at the new hardware now.
    ApplianceProbeStatus.objects.filter(appliance=appliance).update(next_probe_at=timezone.now(), status_failures=0,
                                                                    status_successes=0)
    return appliance


def _pair_follows(*, actor, case: RmaCase, old_host: str, new_host: str) -> None:
    """The pair's connection details named the defective box's address: point them at the replacement."""
    if case.pair_id is None or old_host == new_host:
        return
    pair = case.pair
    data = {}
    if pair.backup_id == case.appliance_id and pair.backup_host == old_host:
        data["backup_host"] = new_host
    if pair.primary_id == case.appliance_id and pair.reverse_host == old_host:
        data["reverse_host"] = new_host
    if data:
        model_update(actor=actor, instance=pair, data=data, fields=list(data))


# -- step handlers: (case, step, data, actor) -> (state, details) -------------------------------------------


def _require(data: dict, *names: str, message: str) -> None:
    errors = {name: message for name in names if not data.get(name)}
    if errors:
        raise ValidationError(errors)


def _received(case, step, data, actor):
    _require(data, "replacement_model", "replacement_serial", message="Needed to track the replacement.")
    _require(data, "first_login_done", "default_password_changed", message=FACTORY_DEFAULT_LOGIN_REMINDER)
    case.replacement_model = data["replacement_model"]
    case.replacement_serial = data["replacement_serial"]
    case.save(update_fields=["replacement_model", "replacement_serial", "updated_at"])
    return RmaStepState.DONE, {
        "replacement_model": case.replacement_model, "replacement_serial": case.replacement_serial,
        "racked_and_connected": True, "first_login_done": True, "default_password_changed": True,
    }


def _probe_replacement(data, organization) -> dict:
    try:
        trust = TrustSettings(ca_pem=data.get("ca_bundle") or None, pin=(data.get("tls_pin") or "").strip() or None)
    except ValueError as exc:
        raise ValidationError({"tls_pin": str(exc)}) from exc
    client = client_for(host=data["management_host"], port=data["management_port"], client_id=data["client_id"],
                        client_secret=data["client_secret"], trust=trust, purpose=ClientPurpose.REPLACEMENT,
                        organization=organization)
    try:
        health = client.check_health()
    except ApplianceError as error:
        raise ValidationError(f"The probe of the replacement failed: {contact_failure_text(error)}") from error
    if not health.success:
        raise ValidationError(f"The replacement answers but reports unhealthy: {health.error_message or 'no reason given'}")
    return {"appliance_guid": health.appliance_id.lower(), "version": health.version, "build": health.build,
            "latency_ms": round(health.latency_ms, 1), "role": str(health.failover_role)}


def _validate_replacement_identity(appliance, data) -> None:
    """Every rule the appliance row will be held to (host syntax, outbound address policy, port, trust, ASCII
    credentials), checked before the portal connects to the typed host: validate, then act."""
    candidate = copy.copy(appliance)
    for name in ("management_host", "management_port", "ca_bundle", "tls_pin", "client_id", "client_secret"):
        setattr(candidate, name, data.get(name) or "")
    candidate.full_clean(validate_unique=False, validate_constraints=False)


def _network(case, step, data, actor):
    _require(data, "management_host", "management_port", "client_id", "client_secret",
             message="Needed to reach the replacement.")
    if not data.get("ca_bundle") and not data.get("tls_pin"):
        raise ValidationError({"ca_bundle": "Give a CA bundle or a pinned fingerprint: the portal never talks to an unverified appliance."})
    _validate_replacement_identity(case.appliance, data)
    probe = _probe_replacement(data, case.organization)
    identity = {
        "management_host": data["management_host"], "management_port": data["management_port"],
        "ca_bundle": data.get("ca_bundle", ""), "tls_pin": data.get("tls_pin", ""),
        "client_id": data["client_id"], "client_secret": data["client_secret"],
        "appliance_guid": probe["appliance_guid"], "model": case.replacement_model,
        "serial_number": case.replacement_serial,
    }
    appliance_hardware_swap(actor=actor, case=case, identity=identity)
    case.replacement_guid = probe["appliance_guid"]
    case.save(update_fields=["replacement_guid", "updated_at"])
    return RmaStepState.DONE, {
        "management_host": data["management_host"], "management_port": data["management_port"],
        "probe": {**probe, "healthy": True, "at": timezone.now().isoformat()},
    }


def _imported(certificate) -> bool:
    # The appliance's own generated certificate differs per box by design; only imported ones must match.
    return str(certificate.extra.get("imported", "")).lower() in ("1", "true", "yes")


def _certificates(case, step, data, actor):
    _require(data, "parity_verified", message="Confirm the certificates match the primary's.")
    details = {"method": data.get("method") or "manual", "parity_verified": True}
    peer = case.pair.peer_of(case.appliance) if case.pair_id else None
    if peer is not None:
        try:
            theirs = {c.sha256_fingerprint for c in appliance_client(peer, purpose=ClientPurpose.REPLACEMENT).get_certificates() if _imported(c)}
            ours = {c.sha256_fingerprint for c in appliance_client(case.appliance, purpose=ClientPurpose.REPLACEMENT).get_certificates()}
        except ApplianceError as error:
            raise ValidationError(f"The certificate parity check could not run: {error}") from error
        missing = sorted(theirs - ours)
        if missing:
            raise ValidationError(
                f"{len(missing)} certificate(s) imported on {peer} are missing on the replacement "
                f"(SHA-256 {', '.join(m[:16] + '…' for m in missing)})."
            )
        details["parity_checked_against"] = peer.name
        details["certificates_compared"] = len(theirs)
    return RmaStepState.DONE, details


def _registered(case, step, data, actor):
    _require(data, "status_details_sent", message="Send the status details to the vendor first.")
    if data.get("package_received"):
        return RmaStepState.DONE, {"status_details_sent": True, "package_received": True}
    return RmaStepState.WAITING_VENDOR, {"status_details_sent": True, "package_received": False}


def _failover_roles_ok(case) -> tuple[bool, str]:
    """The manual path's proof: both members answer, and each reports its normal role."""
    pair = case.pair
    results = []
    for member, expected in ((pair.primary, "primary"), (pair.backup, "backup")):
        try:
            health = appliance_client(member, purpose=ClientPurpose.REPLACEMENT).check_health()
        except ApplianceError as error:
            return False, f"{member} could not be probed: {error}"
        results.append(f"{member}: {health.failover_role}")
        if str(health.failover_role) != expected:
            return False, f"{member} reports role “{health.failover_role}”, expected {expected}"
    return True, "; ".join(results)


def _failover(case, step, data, actor):
    path = data.get("restore_path")
    if path not in RestorePath.values:
        raise ValidationError({"restore_path": "Choose how the software and configuration were restored."})
    details = {"restore_path": path}
    if path == RestorePath.ASYNCHRONOUS:
        backup = data.get("restore_backup")
        peer = case.pair.peer_of(case.appliance) if case.pair_id else None
        if backup is None:
            raise ValidationError({"restore_backup": "The asynchronous path starts by restoring the primary's latest backup: name it."})
        if backup.status != BackupStatus.SUCCEEDED or peer is None or backup.appliance_id != peer.pk:
            raise ValidationError({"restore_backup": "Name a good backup of the pair's primary."})
        newer = ConfigurationBackup.objects.good().filter(appliance=peer, started_at__gt=backup.started_at).exists()
        if newer:
            raise ValidationError({"restore_backup": "A newer backup of the primary exists: restore the latest one."})
        _require(data, "backup_restored", message="Restore the backup on the replacement before re-establishing.")
        case.restore_backup = backup
        details.update(restore_backup=backup.pk, backup_sha256=backup.sha256, backup_restored=True)
    case.restore_path = path
    case.save(update_fields=["restore_path", "restore_backup", "updated_at"])
    if case.pair_id is None:
        details["pair"] = "the appliance was in no pair when the case was opened"
        return RmaStepState.DONE, details
    ok, observed = _failover_roles_ok(case)
    details["verified"] = observed
    if ok:
        return RmaStepState.DONE, details
    reason = f"RMA #{case.pk}: replacement of {case.appliance}"
    try:
        if path == RestorePath.ORIGINAL_PACKAGE:
            # The original package is installed on the replacement: nothing to upgrade, establish at once.
            operation = pair_establish(actor=actor, pair=case.pair, reason=reason)
            details["establish_operation"] = operation.pk
        else:
            # The chosen upgrade path, as failover's pair upgrade runbook (the appliances are not in failover yet,
            # so it skips the sync and the break; the replacement's software is verified from its version).
            operation = operation_start(actor=actor, pair=case.pair, kind=OperationKind.PAIR_UPGRADE, reason=reason,
                                        params={"method": path, "rma": True, "replacement_id": case.appliance_id})
            details["runbook_operation"] = operation.pk
    except ValidationError as exc:
        raise ValidationError([f"Failover is not restored yet: {observed}.", *exc.messages]) from exc
    return RmaStepState.IN_PROGRESS, details


def _support_notified(case, step, data, actor):
    _require(data, "support_notified", message="Tell the vendor's support the restore is complete first.")
    if data.get("return_label_received"):
        return RmaStepState.DONE, {"support_notified": True, "return_label_received": True}
    return RmaStepState.WAITING_VENDOR, {"support_notified": True, "return_label_received": False}


def _returned(case, step, data, actor):
    reset = bool(data.get("factory_reset") or step.details.get("factory_reset"))
    shut_down = bool(data.get("shut_down") or step.details.get("shut_down"))
    tracking = (data.get("tracking_number") or "").strip()
    if shut_down and not reset:
        raise ValidationError({"shut_down": "Reset the defective appliance to factory defaults before shutting it down."})
    if tracking and not (reset and shut_down):
        raise ValidationError(
            {"tracking_number": "No shipping before the reset: reset the defective appliance to factory defaults "
             "and shut it down first (it still holds your configuration and keys)."}
        )
    details = {"factory_reset": reset, "shut_down": shut_down, "tracking_number": tracking}
    if not tracking:
        if not reset:
            raise ValidationError({"factory_reset": "Record the reset to factory defaults."})
        return RmaStepState.IN_PROGRESS, details
    case.return_tracking_number = tracking
    case.save(update_fields=["return_tracking_number", "updated_at"])
    return RmaStepState.DONE, details


HANDLERS = {
    K.RECEIVED: _received, K.NETWORK: _network, K.CERTIFICATES: _certificates, K.REGISTERED: _registered,
    K.FAILOVER: _failover, K.SUPPORT_NOTIFIED: _support_notified, K.RETURNED: _returned,
}


@transaction.atomic
def rma_record_step(*, actor, case: RmaCase, key: str, data: dict, notes: str = "", attachments=()) -> RmaStep:
    """Record what was done for one step. Raises ValidationError (with the reason) when the step is out of
    order or its checks fail; nothing is changed then."""
    if key not in STEP_RULES:
        raise ValidationError({"step": "Unknown step."})
    require_role(actor, case.organization_id, STEP_RULES[key].role)
    # Lock the case row only (the pair join is nullable); concurrent recordings of one case serialise here.
    case = (
        RmaCase.objects.select_for_update(of=("self",))
        .select_related("appliance", "pair__primary", "pair__backup", "organization")
        .get(pk=case.pk)
    )
    steps = list(case.steps.order_by("position"))
    by_key = {s.key: s for s in steps}
    step = by_key[key]
    for s in steps:
        s.case = case
    blockers = step_blockers(step, by_key)
    if blockers:
        raise ValidationError(blockers)
    if step.is_done:
        raise ValidationError("This step is already done.")
    state, details = HANDLERS[key](case, step, data, actor)
    now = timezone.now()
    step.state = state
    step.details = {**step.details, **details}
    step.notes = "\n\n".join(part for part in (step.notes, notes.strip()) if part)
    step.recorded_at, step.recorded_by = now, actor if getattr(actor, "pk", None) else None
    if state == RmaStepState.DONE:
        step.done_at, step.done_by = now, step.recorded_by
    step.save()
    for upload in attachments:
        rma_attach(actor=actor, case=case, upload=upload, step=step)
    _refresh_status(case, steps, now)
    audit_record(
        actor=actor, organization=case.organization, action=AuditAction.ACTION, obj=case, verb="rma step",
        summary=f"{step}: {step.get_state_display()}", changes={"step": key, "state": state},
    )
    return step


def _refresh_status(case: RmaCase, steps: list[RmaStep], now) -> None:
    status = case_status(steps)
    if status != case.status:
        case.status, case.status_since = status, now
        case.closed_at = now if status == RmaStatus.CLOSED else None
        case.save(update_fields=["status", "status_since", "closed_at", "updated_at"])
