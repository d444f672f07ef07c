"""Pairs: create/update/delete, establishing the relationship (with every pre-check explained), backup settings
and shared IPs. Appliance calls made here are synchronous reads/writes a person waits for; anything that
changes roles goes through an operation."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from appliances.drivers import ApplianceError
from appliances.models import AddressKind, ApplianceAddress
from appliances.services import address_create, address_delete, address_update
from portal.models import AuditAction
from portal.services.audit import audit_record
from portal.services.common import model_create, model_delete, model_update

from ..models import BackupSettings, NetworkMethod, Operation, OperationKind, OperationStatus, Pair
from ..operations.clients import client_for
from .operations import operation_start

PAIR_EDITABLE_FIELDS = [
    "site_hostname", "primary", "backup", "network_method", "shared_ip", "dns_server", "dns_port", "dns_zone",
    "dns_ttl", "dns_tsig_key_name", "dns_tsig_secret", "dns_tsig_algorithm", "nat_public_address",
    "nat_public_port", "nat_device", "backup_host", "backup_port", "reverse_host", "reverse_port",
    "sync_stale_after", "portal_auto_failover",
]
BACKUP_SETTINGS_FIELDS = [
    "enable_backup_operations", "primary_timeout", "sync_interval", "bandwidth_limit", "automatic_failover",
    "connectivity_test_ips",
]
# The portal keeps the bandwidth limit in kbit/s; the appliance API takes bytes per second.
BYTES_PER_KBIT = 125


def _check_members(organization_id: int, primary, backup) -> None:
    errors = {}
    for field, appliance in (("primary", primary), ("backup", backup)):
        if appliance is not None and appliance.organization_id != organization_id:
            errors[field] = "The appliance must belong to the pair's organisation."
    if errors:
        raise ValidationError(errors)


def _ensure_backup_settings(pair: Pair) -> None:
    for appliance in pair.members:
        BackupSettings.objects.get_or_create(appliance=appliance, defaults={"organization_id": pair.organization_id})


@transaction.atomic
def pair_create(*, actor, organization, **fields) -> Pair:
    _check_members(organization.pk, fields.get("primary"), fields.get("backup"))
    pair = model_create(actor=actor, model=Pair, data={"organization": organization, **fields})
    _ensure_backup_settings(pair)
    return pair


@transaction.atomic
def pair_update(*, actor, pair: Pair, data: dict) -> Pair:
    _check_members(pair.organization_id, data.get("primary"), data.get("backup"))
    pair = model_update(actor=actor, instance=pair, data=data, fields=PAIR_EDITABLE_FIELDS)[0]
    _ensure_backup_settings(pair)
    return pair


@transaction.atomic
def pair_delete(*, actor, pair: Pair) -> None:
    if Operation.objects.filter(pair=pair, status__in=OperationStatus.active()).exists():
        raise ValidationError("An operation is running on this pair; wait for it to finish before deleting the pair.")
    model_delete(actor=actor, instance=pair)


# -- establishing the relationship ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: could not be checked
    message: str


def certificate_parity(pair: Pair) -> tuple[bool | None, str]:
    """Whether both members serve the same certificate, from the certificates app (unknown until it exists)."""
    try:
        from certificates.selectors import pair_certificate_parity
    except ImportError:
        return None, "Certificates are not compared yet."
    result = pair_certificate_parity(pair)
    return result.match, result.reason


def _normalise_fingerprint(value: str) -> str:
    return value.replace(":", "").replace(" ", "").strip().lower()


def _on_subnet(appliance, address) -> bool:
    return any(address in a.network for a in appliance.addresses.all() if a.kind == AddressKind.UNIQUE)


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
    others = Pair.objects.filter(Q(primary__in=pair.members) | Q(backup__in=pair.members)).exclude(pk=pair.pk).filter(
        established_at__isnull=False, broken_at__isnull=True)
    for other in others:
        checks.append(Check("not_paired", False, f"{other.primary.name if other.primary in pair.members else other.backup.name} "
                                                 f"is already in the established pair {other.site_hostname}."))
    healths = {}
    for appliance in pair.members:
        try:
            healths[appliance.pk] = client_for(appliance).check_health()
        except ApplianceError as exc:
            checks.append(Check("reachable", False, f"The portal cannot contact {appliance.name}: {exc}"))
    if len(healths) == 2:
        for appliance in pair.members:
            role = healths[appliance.pk].failover_role
            if role != "none":
                checks.append(Check("not_paired", False, f"{appliance.name} already reports being {role} in a failover "
                                                         "relationship; break that relationship first."))
        mine, theirs = healths[primary.pk], healths[backup.pk]
        same_version = (mine.version, mine.build) == (theirs.version, theirs.build)
        checks.append(Check(
            "software", same_version,
            f"Both run {mine.version} (build {mine.build})." if same_version else
            f"{primary.name} runs {mine.version} (build {mine.build}) but {backup.name} runs {theirs.version} "
            f"(build {theirs.build}). Both must run the same version and build: update one of them first.",
        ))
        checks.append(_key_check(pair, key_fingerprint))
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


def _key_check(pair: Pair, entered: str) -> Check:
    reported = {}
    for appliance in pair.members:
        client = client_for(appliance)
        try:
            if client.get_capabilities().supports("x_get_key_fingerprint"):
                reported[appliance.pk] = _normalise_fingerprint(client.get_key_fingerprint().fingerprint)
        except ApplianceError as exc:
            return Check("key", False, f"Could not read the key fingerprint of {appliance.name}: {exc}")
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


def backup_settings_update(*, actor, backup_settings: BackupSettings, data: dict, apply: bool = True) -> BackupSettings:
    """Validate, apply on the appliance (when it offers the API), then save and audit. When the appliance
    refuses or cannot be reached nothing is saved, so the portal never shows settings that are not in force."""
    candidate = BackupSettings.objects.get(pk=backup_settings.pk)
    for name in BACKUP_SETTINGS_FIELDS:
        if name in data:
            setattr(candidate, name, data[name])
    candidate.full_clean()
    if apply:
        client = client_for(backup_settings.appliance)
        try:
            if _supports(client, "x_set_backup_settings"):
                client.set_backup_settings(
                    enable_backup_operations=candidate.enable_backup_operations,
                    automatic_failover=candidate.automatic_failover, primary_timeout=candidate.primary_timeout,
                    sync_interval=candidate.sync_interval, bandwidth_limit=candidate.bandwidth_limit * BYTES_PER_KBIT,
                    connectivity_test_ips=list(candidate.connectivity_test_ips),
                )
                data = {**data, "read_from_appliance_at": timezone.now()}
        except ApplianceError as exc:
            raise ValidationError(f"{backup_settings.appliance.name} did not accept the settings: {exc}") from exc
    return model_update(actor=actor, instance=backup_settings, data=data,
                        fields=[*BACKUP_SETTINGS_FIELDS, "read_from_appliance_at"])[0]


def backup_settings_refresh(*, actor, appliance) -> BackupSettings:
    """Read the settings in force on the appliance into the portal."""
    row = backup_settings_for(appliance)
    try:
        current = client_for(appliance).get_backup_settings()
    except ApplianceError as exc:
        raise ValidationError(f"Could not read the backup settings of {appliance.name}: {exc}") from exc
    data = {
        "enable_backup_operations": current.enable_backup_operations, "automatic_failover": current.automatic_failover,
        "primary_timeout": current.primary_timeout, "sync_interval": current.sync_interval,
        "bandwidth_limit": current.bandwidth_limit // BYTES_PER_KBIT,
        "connectivity_test_ips": list(current.connectivity_test_ips), "read_from_appliance_at": timezone.now(),
    }
    return model_update(actor=actor, instance=row, data=data, fields=[*BACKUP_SETTINGS_FIELDS, "read_from_appliance_at"])[0]


# -- shared IPs ----------------------------------------------------------------------------------------------

SHARED_IP_WARNING = ("Shared IPs are a per-appliance setting that is not copied to the peer: set the same shared "
                     "IPs on the other appliance of the pair.")


def shared_ips_set(*, actor, appliance, ips: list[str], prefix_length: int = 24) -> list[str]:
    """Set which shared IPs the appliance takes over as primary. Returns warnings (e.g. the peer differs)."""
    cleaned = []
    for ip in ips:
        try:
            cleaned.append(str(ipaddress.ip_address(str(ip).strip())))
        except ValueError:
            raise ValidationError({"ips": f"“{ip}” is not an IP address."}) from None
    client = client_for(appliance)
    try:
        if _supports(client, "x_set_shared_ips"):
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
                               kind=AddressKind.SHARED, enabled=appliance.status_role == "primary")
            elif existing[ip].prefix_length != prefix_length:
                address_update(actor=actor, address=existing[ip], data={"prefix_length": prefix_length})
        audit_record(actor=actor, organization=appliance.organization, action=AuditAction.ACTION, obj=appliance,
                     verb="set shared IPs", summary=", ".join(cleaned) or "none")
    warnings = [SHARED_IP_WARNING]
    pair = Pair.objects.filter(Q(primary=appliance) | Q(backup=appliance)).select_related("primary", "backup").first()
    if pair is not None:
        peer = pair.peer_of(appliance)
        peer_ips = set(ApplianceAddress.objects.filter(appliance=peer, kind=AddressKind.SHARED)
                       .values_list("address", flat=True))
        if peer_ips != set(cleaned):
            warnings.append(f"{peer.name} has different shared IPs ({', '.join(sorted(peer_ips)) or 'none'}); "
                            "set it to match.")
    return warnings
