"""Pairs: create/update/delete, establishing the relationship (with every pre-check explained), backup settings
and shared IPs. Appliance calls made here are synchronous reads/writes a person waits for, so they use the
appliance's short (interactive) timeout and read both members at once; anything that changes roles goes through
an operation."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from appliances.connect import ClientPurpose, appliance_client, contact_failure_text, read_concurrently
from appliances.drivers import ApplianceClient, ApplianceError, HealthReport
from appliances.models import AddressKind, Appliance, ApplianceAddress, FailoverRole
from appliances.services import address_create, address_delete, address_update
from portal.models import AuditAction, Role
from portal.permissions import require_role
from portal.queue import enqueue_on_commit
from portal.services.audit import audit_record
from portal.services.common import model_create, model_delete, model_update, models_bulk_create

from ..declarations import shared_ips_steps
from ..models import BackupSettings, NetworkMethod, Operation, OperationKind, OperationStatus, Pair
from ..selectors import appliance_pairs, appliance_shared_ips, certificate_parity
from .advice import REFRESH_ADVICE_TASK, advice_refresh
from .operations import operation_start

PAIR_EDITABLE_FIELDS = [
    "site_hostname", "primary", "backup", "network_method", "shared_ip", "dns_server", "dns_port", "dns_zone",
    "dns_ttl", "dns_tsig_key_name", "dns_tsig_secret", "dns_tsig_algorithm", "nat_public_address",
    "nat_public_port", "nat_device", "backup_host", "backup_port", "reverse_host", "reverse_port",
    "sync_stale_after", "portal_auto_failover",
]
#: What makes the relationship: fixed while it is established (or an operation runs on it).
RELATIONSHIP_FIELDS = ("primary", "backup", "network_method")
BACKUP_SETTINGS_FIELDS = [
    "enable_backup_operations", "primary_timeout", "sync_interval", "bandwidth_limit", "automatic_failover",
    "connectivity_test_ips",
]
#: Where the stored values come from (see BackupSettings.provenance).
PROVENANCE_FIELDS = ["read_from_appliance_at", "declared_at", "declared_by"]
# The portal keeps the bandwidth limit in kbit/s; the appliance API takes bytes per second.
BYTES_PER_KBIT = 125


def _require_admin(actor, organization_id: int) -> None:
    # The portal itself (fleet loading, policies) acts as SYSTEM, which holds every role.
    require_role(actor, organization_id, Role.ADMIN)


def check_members(organization_id: int, members: dict, *, pair_id: int | None = None) -> None:
    """``members``: field name -> appliance for the members being set. Each must be in the pair's organisation and
    in no other pair (on either side). The appliance rows stay locked until the transaction ends, so two requests
    cannot put one appliance into two pairs at once."""
    errors = members_errors(organization_id, [members], pair_id=pair_id)
    if errors:
        raise ValidationError(errors[0])


def members_errors(organization_id: int, rows: list[dict], *, pair_id: int | None = None) -> dict[int, dict]:
    """``check_members`` for many pairs' members at once (one lock and one lookup whatever their number): the
    index of each row with a refused member -> field name -> why."""
    rows = [{field: appliance for field, appliance in row.items() if appliance is not None} for row in rows]
    ids = sorted({appliance.pk for row in rows for appliance in row.values()})
    locked = list(Appliance.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    names = {appliance.pk: appliance.name for appliance in locked}
    site_of = {}
    recorded = (Pair.objects.filter(Q(primary_id__in=ids) | Q(backup_id__in=ids)).exclude(pk=pair_id)
                .values_list("primary_id", "backup_id", "site_hostname"))
    for primary_id, backup_id, site in recorded:
        site_of.update({primary_id: site, backup_id: site})
    errors: dict[int, dict] = {}
    for index, row in enumerate(rows):
        for field, appliance in row.items():
            if appliance.organization_id != organization_id:
                errors.setdefault(index, {})[field] = "The appliance must belong to the pair's organisation."
            elif appliance.pk in site_of:
                errors.setdefault(index, {})[field] = (
                    f"{names.get(appliance.pk, appliance)} is already a member of the pair {site_of[appliance.pk]}; "
                    "an appliance belongs to one pair at most.")
    return errors


def _is_established(pair: Pair) -> bool:
    return bool(pair.established_at and not pair.broken_at)


def _has_active_operation(pair: Pair) -> bool:
    return Operation.objects.filter(pair=pair, status__in=OperationStatus.active()).exists()


def _changed_value(pair: Pair, field: str, value) -> bool:
    current = getattr(pair, f"{field}_id") if field in ("primary", "backup") else getattr(pair, field)
    return getattr(value, "pk", value) != current


def _ensure_backup_settings(pair: Pair) -> None:
    for appliance in pair.members:
        BackupSettings.objects.get_or_create(appliance=appliance, defaults={"organization_id": pair.organization_id})


@transaction.atomic
def pair_create(*, actor, organization, **fields) -> Pair:
    _require_admin(actor, organization.pk)
    check_members(organization.pk, {"primary": fields.get("primary"), "backup": fields.get("backup")})
    pair = model_create(actor=actor, model=Pair, data={"organization": organization, **fields})
    _ensure_backup_settings(pair)
    advice_refresh(pair_ids=[pair.pk])
    return pair


@transaction.atomic
def pairs_bulk_create(*, actor, organization, rows: list[dict]) -> list[Pair]:
    """Many pairs of one organisation at once (a fleet load), with the same member rules as ``pair_create``
    (``members_errors``: checked for all rows in one query) and backup settings for members that have none yet (a
    row's optional ``backup_settings``: their field values, for both members)."""
    _require_admin(actor, organization.pk)
    rows = [dict(row) for row in rows]
    settings_of_row = [row.pop("backup_settings", None) or {} for row in rows]
    members = [row[side] for row in rows for side in ("primary", "backup")]
    if len({a.pk for a in members}) != len(members):
        raise ValidationError("An appliance belongs to one pair at most.")
    refused = members_errors(organization.pk, [{"primary": row["primary"], "backup": row["backup"]} for row in rows])
    if refused:
        raise ValidationError([message for fields in refused.values() for message in fields.values()])
    pairs = models_bulk_create(actor=actor, model=Pair, rows=[{"organization": organization, **row} for row in rows])
    have = set(BackupSettings.objects.filter(appliance__in=members).values_list("appliance_id", flat=True))
    # Values given here were not read from the appliances: they are the caller's declaration (as
    # backup_settings_update records a change the appliance cannot take), never an unknown taken for a reading.
    declared = {"declared_at": timezone.now(), "declared_by": actor if getattr(actor, "pk", None) else None}
    models_bulk_create(actor=actor, model=BackupSettings, rows=[
        {"organization": organization, "appliance": row[side], **values, **(declared if values else {})}
        for row, values in zip(rows, settings_of_row, strict=True) for side in ("primary", "backup")
        if row[side].pk not in have])
    # A fleet load creates thousands of pairs: their findings are stored by a worker once this commits (a few
    # seconds per 5,000 pairs that the load would otherwise wait for; the beat sweep would catch them anyway).
    enqueue_on_commit(REFRESH_ADVICE_TASK, [pair.pk for pair in pairs])
    return pairs


@transaction.atomic
def pair_update(*, actor, pair: Pair, data: dict) -> Pair:
    """Members and network method are fixed while the relationship is established or an operation runs: the
    appliances would keep their relationship while the portal showed another one."""
    _require_admin(actor, pair.organization_id)
    # The stored row, locked (the caller's instance may already carry a form's unsaved values); operation_start
    # locks it too, so no operation starts between this check and the save.
    pair = Pair.objects.select_for_update().select_related("primary", "backup").get(pk=pair.pk)
    changed = [field for field in RELATIONSHIP_FIELDS if field in data and _changed_value(pair, field, data[field])]
    if changed and (_is_established(pair) or _has_active_operation(pair)):
        why = ("the relationship is established" if _is_established(pair) else "an operation is running on the pair")
        raise ValidationError(dict.fromkeys(changed, f"This cannot change while {why}. Break the relationship first."))
    check_members(pair.organization_id, {f: data[f] for f in ("primary", "backup") if f in changed}, pair_id=pair.pk)
    pair = model_update(actor=actor, instance=pair, data=data, fields=PAIR_EDITABLE_FIELDS)[0]
    _ensure_backup_settings(pair)
    advice_refresh(pair_ids=[pair.pk])
    return pair


@transaction.atomic
def pair_delete(*, actor, pair: Pair) -> None:
    _require_admin(actor, pair.organization_id)
    pair = Pair.objects.select_for_update().get(pk=pair.pk)  # operation_start locks it too: no race with a start
    if _is_established(pair):
        raise ValidationError("The relationship of this pair is established: break it first, then delete the pair.")
    if _has_active_operation(pair):
        raise ValidationError("An operation is running on this pair; wait for it to finish before deleting the pair.")
    model_delete(actor=actor, instance=pair)


# -- establishing the relationship ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: could not be checked
    message: str


def _normalise_fingerprint(value: str) -> str:
    return value.replace(":", "").replace(" ", "").strip().lower()


def _on_subnet(appliance, address) -> bool:
    return any(address in a.network for a in appliance.addresses.all() if a.kind == AddressKind.UNIQUE)


def interactive_client(appliance) -> ApplianceClient:
    """A client for calls a person waits for: the appliance's probe timeout, not an operation's long one."""
    return appliance_client(appliance, purpose=ClientPurpose.INTERACTIVE)


@dataclass(frozen=True)
class MemberReading:
    """What the establish checks need from one member, read in one go."""

    health: HealthReport | None = None
    fingerprint: str | None = None  # None: the appliance does not report its key
    error: str = ""  # the member could not be contacted
    fingerprint_error: str = ""


def _read_member(client: ApplianceClient) -> MemberReading:
    try:
        health = client.check_health()
    except ApplianceError as exc:
        return MemberReading(error=contact_failure_text(exc))
    try:
        if not client.get_capabilities().supports("x_get_key_fingerprint"):
            return MemberReading(health=health)
        return MemberReading(health=health, fingerprint=_normalise_fingerprint(client.get_key_fingerprint().fingerprint))
    except ApplianceError as exc:
        return MemberReading(health=health, fingerprint_error=str(exc))


def _read_members(pair: Pair) -> dict[int, MemberReading]:
    """Both members at once (no database access in the threads), each call bounded by the interactive timeout."""
    readings, refused = read_concurrently(pair.members, _read_member, purpose=ClientPurpose.INTERACTIVE,
                                          concurrency=2, name="establish-check")
    return {**{pk: MemberReading(error=error) for pk, error in refused.items()}, **readings}


def pair_establish_checks(*, pair: Pair, key_fingerprint: str = "") -> list[Check]:
    """Everything that must hold before the relationship is established, in words an admin understands."""
    primary, backup = pair.primary, pair.backup
    checks: list[Check] = []
    same_org = primary.organization_id == backup.organization_id == pair.organization_id
    checks.append(Check("organisation", same_org, "Both appliances belong to the pair's organisation." if same_org
                        else "Both appliances must belong to the pair's organisation."))
    if pair.established_at and not pair.broken_at:
        checks.append(Check("not_paired", False, f"This pair was already established on {pair.established_at:%Y-%m-%d}; "
                                                 "break the relationship before establishing it again."))
    for appliance in pair.members:
        others = appliance_pairs(appliance=appliance).exclude(pk=pair.pk).filter(
            established_at__isnull=False, broken_at__isnull=True)
        for other in others:
            checks.append(Check("not_paired", False, f"{appliance.name} is already in the established pair "
                                                     f"{other.site_hostname}."))
    readings = _read_members(pair)
    for appliance in pair.members:
        if readings[appliance.pk].error:
            checks.append(Check("reachable", False, f"The portal cannot contact {appliance.name}: "
                                                    f"{readings[appliance.pk].error}"))
    healths = {pk: reading.health for pk, reading in readings.items() if reading.health is not None}
    if len(healths) == 2:
        for appliance in pair.members:
            role = healths[appliance.pk].failover_role
            if role != "none":
                checks.append(Check("not_paired", False, f"{appliance.name} already reports being {role} in a failover "
                                                         "relationship: adopt the existing pair instead (Pairs > "
                                                         "Adopt existing pairs), or break that relationship first."))
        mine, theirs = healths[primary.pk], healths[backup.pk]
        same_version = (mine.version, mine.build) == (theirs.version, theirs.build)
        checks.append(Check(
            "software", same_version,
            f"Both run {mine.version} (build {mine.build})." if same_version else
            f"{primary.name} runs {mine.version} (build {mine.build}) but {backup.name} runs {theirs.version} "
            f"(build {theirs.build}). Both must run the same version and build: update one of them first.",
        ))
        checks.append(_key_check(pair, readings, key_fingerprint))
    match, reason = certificate_parity(pair)
    if match is not None:
        checks.append(Check("certificate", match, reason if match else
                            f"The two appliances do not serve the same certificate: {reason}"))
    if pair.network_method == NetworkMethod.SHARED_IP and pair.shared_ip:
        shared = ipaddress.ip_address(pair.shared_ip)
        for appliance in pair.members:
            ok = _on_subnet(appliance, shared)
            checks.append(Check("subnet", ok, f"{appliance.name} is on the subnet of the shared IP {shared}." if ok else
                                f"{appliance.name} has no address on the subnet of the shared IP {shared}; the shared "
                                "IP method needs both appliances on that subnet (use DNS or NAT swing otherwise)."))
    return checks


def _key_check(pair: Pair, readings: dict[int, MemberReading], entered: str) -> Check:
    reported = {}
    for appliance in pair.members:
        reading = readings[appliance.pk]
        if reading.fingerprint_error:
            return Check("key", False, f"Could not read the key fingerprint of {appliance.name}: "
                                       f"{reading.fingerprint_error}")
        if reading.fingerprint is not None:
            reported[appliance.pk] = reading.fingerprint
    entered = _normalise_fingerprint(entered or "")
    if len(reported) == 2:
        if reported[pair.primary_id] != reported[pair.backup_id]:
            return Check("key", False, "The inter-appliance keys of the two appliances differ: set the same key on "
                                       "both (/appliance > Security > Appliance Administration) and try again.")
        if entered and entered != reported[pair.primary_id]:
            return Check("key", False, "The key fingerprint you entered does not match the key both appliances use.")
        return Check("key", True, "Both appliances use the same inter-appliance key.")
    if entered:
        mismatched = [a.name for a in pair.members if a.pk in reported and reported[a.pk] != entered]
        if mismatched:
            return Check("key", False, f"The key fingerprint you entered does not match {', '.join(mismatched)}.")
        return Check("key", None, "The appliances do not report their key; you confirmed its fingerprint.")
    return Check("key", False, "The appliances do not report their inter-appliance key: enter the SHA-256 "
                               "fingerprint of the key you set on both to confirm they are identical.")


def pair_establish(*, actor, pair: Pair, key_fingerprint: str = "", reason: str = "", idempotency_key: str = "",
                   guided: bool = False) -> Operation:
    """Check everything first (nothing changes when a check fails), then run the establish operation."""
    if idempotency_key:
        existing = Operation.objects.filter(organization_id=pair.organization_id, idempotency_key=idempotency_key).first()
        if existing is not None:
            return operation_start(actor=actor, pair=pair, kind=OperationKind.ESTABLISH, idempotency_key=idempotency_key)
    failures = [check.message for check in pair_establish_checks(pair=pair, key_fingerprint=key_fingerprint)
                if check.ok is False]
    if failures:
        raise ValidationError(failures)
    return operation_start(actor=actor, pair=pair, kind=OperationKind.ESTABLISH, params={"guided": guided},
                           reason=reason, idempotency_key=idempotency_key)


# -- backup settings -----------------------------------------------------------------------------------------

def backup_settings_for(appliance) -> BackupSettings:
    return BackupSettings.objects.get_or_create(
        appliance=appliance, defaults={"organization_id": appliance.organization_id}
    )[0]


def _supports(client, action: str) -> bool:
    return client.get_capabilities().supports(action)


def _syncs_scheduled(settings_row: BackupSettings) -> bool:
    return bool(settings_row.enable_backup_operations and settings_row.sync_interval)


def backup_settings_update(*, actor, backup_settings: BackupSettings, data: dict, apply: bool = True) -> BackupSettings:
    """Validate, apply on the appliance when it offers the extension (then saved as read from it), otherwise save
    them as a *declaration* by ``actor`` (the pages show the steps to apply them on the appliance; never
    "applied"). When the appliance refuses or cannot be reached nothing is saved."""
    _require_admin(actor, backup_settings.organization_id)
    candidate = BackupSettings.objects.get(pk=backup_settings.pk)
    for name in BACKUP_SETTINGS_FIELDS:
        if name in data:
            setattr(candidate, name, data[name])
    candidate.full_clean()
    applied = False
    if apply:
        client = interactive_client(backup_settings.appliance)
        try:
            if _supports(client, "x_set_backup_settings"):
                client.set_backup_settings(
                    enable_backup_operations=candidate.enable_backup_operations,
                    automatic_failover=candidate.automatic_failover, primary_timeout=candidate.primary_timeout,
                    sync_interval=candidate.sync_interval, bandwidth_limit=candidate.bandwidth_limit * BYTES_PER_KBIT,
                    connectivity_test_ips=list(candidate.connectivity_test_ips),
                )
                applied = True
        except ApplianceError as exc:
            raise ValidationError(f"{backup_settings.appliance.name} did not accept the settings: {exc}") from exc
    now = timezone.now()
    if applied:
        data = {**data, "read_from_appliance_at": now, "declared_at": None, "declared_by": None}
    else:
        data = {**data, "read_from_appliance_at": None, "declared_at": now,
                "declared_by": actor if getattr(actor, "pk", None) else None}
    with transaction.atomic():
        # The stored row, locked: the caller's instance may carry a form's unsaved values (or be stale), and the
        # audit's diff must compare with what is stored.
        stored = BackupSettings.objects.select_for_update().select_related("appliance").get(pk=backup_settings.pk)
        row = model_update(actor=actor, instance=stored, data=data,
                           fields=[*BACKUP_SETTINGS_FIELDS, *PROVENANCE_FIELDS])[0]
        if not _syncs_scheduled(row):
            # No scheduled sync (nor a pending retry of a failed one) while this backup's syncing is off.
            Pair.objects.filter(backup_id=row.appliance_id).update(next_sync_at=None)
        advice_refresh(appliance_ids=[row.appliance_id])
    return row


def backup_settings_as_read(current) -> dict:
    """The portal's backup-settings fields for the settings an appliance reported (the driver's BackupSettings),
    marked as read now (not declared)."""
    return {
        "enable_backup_operations": current.enable_backup_operations, "automatic_failover": current.automatic_failover,
        "primary_timeout": current.primary_timeout, "sync_interval": current.sync_interval,
        "bandwidth_limit": current.bandwidth_limit // BYTES_PER_KBIT,
        "connectivity_test_ips": list(current.connectivity_test_ips), "read_from_appliance_at": timezone.now(),
        "declared_at": None, "declared_by": None,
    }


def backup_settings_refresh(*, actor, appliance) -> BackupSettings:
    """Read the settings in force on the appliance into the portal."""
    _require_admin(actor, appliance.organization_id)
    row = backup_settings_for(appliance)
    try:
        current = interactive_client(appliance).get_backup_settings()
    except ApplianceError as exc:
        raise ValidationError(f"Could not read the backup settings of {appliance.name}: {exc}") from exc
    with transaction.atomic():
        row = model_update(actor=actor, instance=row, data=backup_settings_as_read(current),
                           fields=[*BACKUP_SETTINGS_FIELDS, *PROVENANCE_FIELDS])[0]
        advice_refresh(appliance_ids=[appliance.pk])
    return row


# -- shared IPs ----------------------------------------------------------------------------------------------

SHARED_IP_WARNING = ("Shared IPs are a per-appliance setting that is not copied to the peer: set the same shared "
                     "IPs on the other appliance of the pair.")


def _clean_shared_ips(*, appliance, ips: list[str], prefix_length: int) -> list[str]:
    """Every rule the address rows will be held to, checked before the appliance is told anything (validate, then
    act): a prefix too long for the address family was refused only after the appliance had taken the IPs."""
    cleaned: list[str] = []
    for ip in ips:
        try:
            address = str(ipaddress.ip_address(str(ip).strip()))
        except ValueError:
            raise ValidationError({"ips": f"“{ip}” is not an IP address."}) from None
        if address not in cleaned:
            cleaned.append(address)
    for address in cleaned:
        ApplianceAddress(organization_id=appliance.organization_id, appliance=appliance, address=address,
                         prefix_length=prefix_length, kind=AddressKind.SHARED).full_clean(
            exclude=["organization", "appliance"], validate_unique=False, validate_constraints=False)
    return cleaned


def shared_ips_set(*, actor, appliance, ips: list[str], prefix_length: int = 24) -> list[str]:
    """Set which shared IPs the appliance takes over as primary. Returns warnings (e.g. the peer differs)."""
    _require_admin(actor, appliance.organization_id)
    cleaned = _clean_shared_ips(appliance=appliance, ips=ips, prefix_length=prefix_length)
    client = interactive_client(appliance)
    try:
        applied = _supports(client, "x_set_shared_ips")
        if applied:
            client.set_shared_ips(cleaned)
    except ApplianceError as exc:
        raise ValidationError(f"{appliance.name} did not accept the shared IPs: {exc}") from exc
    with transaction.atomic():
        existing = {str(a.address): a for a in appliance.addresses.filter(kind=AddressKind.SHARED)}
        for ip, address in existing.items():
            if ip not in cleaned:
                address_delete(actor=actor, address=address)
        for ip in cleaned:
            if ip not in existing:
                address_create(actor=actor, appliance=appliance, address=ip, prefix_length=prefix_length,
                               kind=AddressKind.SHARED, enabled=appliance.status_role == FailoverRole.PRIMARY)
            elif existing[ip].prefix_length != prefix_length:
                address_update(actor=actor, address=existing[ip], data={"prefix_length": prefix_length})
        audit_record(actor=actor, organization=appliance.organization, action=AuditAction.ACTION, obj=appliance,
                     verb="set shared IPs" if applied else "declare shared IPs", summary=", ".join(cleaned) or "none")
    warnings = [SHARED_IP_WARNING]
    if not applied:
        warnings.insert(0, f"Declared, not applied: {appliance.name} offers the vendor API only, which cannot set "
                           "shared IPs. To apply: " + " ".join(shared_ips_steps(appliance, cleaned)))
    pair = appliance_pairs(appliance=appliance).first()
    if pair is not None:
        peer = pair.peer_of(appliance)
        peer_ips = set(appliance_shared_ips(appliance=peer))
        if peer_ips != set(cleaned):
            warnings.append(f"{peer.name} has different shared IPs ({', '.join(sorted(peer_ips)) or 'none'}); "
                            "set it to match.")
    return warnings
