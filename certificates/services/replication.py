"""Replicate a couple's certificate configuration (e.g. a failover pair's) from the primary to the backup in one
operator action.

The source is the primary's certificate with its private key: either the portal's encrypted copy, or the
primary's own export file uploaded once with its passphrase (checked to really be the primary's certificate).
The backup receives the certificate, chain and key, and the same default choice and assignment, through its
API when it offers certificate import; otherwise the operator gets the remaining manual steps, and the parity
check proves the result either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q

from appliances.connect import ClientPurpose, appliance_client
from appliances.drivers import ApplianceAuthError, ApplianceError
from appliances.models import AddressKind
from portal.models import AuditAction, Role
from portal.permissions import SYSTEM, require_role
from portal.services.audit import audit_record

from ..couple import Couple
from ..crypto import ImportedBundle
from ..models import Certificate, CertificateSource, ServedCertificate
from .common import appliance_error
from .defaults import apply_default
from .inventory import certificate_inventory_sync, certificate_store, read_bundle, stored_bundle
from .parity import CoupleCheck, couple_certificates_check

IMPORT_ACTION = "x_import_certificate"


@dataclass(frozen=True)
class ReplicationResult:
    source: Certificate
    target: Certificate
    via_appliance: bool
    message: str
    check: CoupleCheck | None = None


def _primary_certificate(couple: Couple, certificate: Certificate | None) -> Certificate:
    if certificate is not None:
        if certificate.appliance_id != couple.primary_id:
            raise ValidationError({"certificate": "Choose a certificate of the pair's primary."})
        return certificate
    default = Certificate.objects.filter(appliance_id=couple.primary_id, is_default=True).first()
    if default is None:
        raise ValidationError(
            {"certificate": "The primary's default certificate is not known: sync the primary's inventory first, "
                            "or upload the primary's certificate export."}
        )
    return default


def _uploaded_source(*, actor, couple: Couple, data: bytes, passphrase: str) -> tuple[Certificate, ImportedBundle]:
    bundle = read_bundle(data=data, passphrase=passphrase)
    if bundle.private_key is None:
        raise ValidationError({"file": "The export must include the private key: the backup needs it to serve."})
    fingerprint = bundle.details.fingerprint_sha256
    held = Certificate.objects.filter(appliance_id=couple.primary_id, fingerprint_sha256=fingerprint).exists()
    served = ServedCertificate.objects.filter(appliance_id=couple.primary_id, fingerprint_sha256=fingerprint).exists()
    if not (held or served):
        raise ValidationError(
            {"file": "This certificate is neither in the primary's inventory nor served by it. Export the "
                     "certificate from the primary (or sync its inventory first)."}
        )
    # Keep the primary's key in the portal (encrypted) so the next replication needs no upload.
    source = certificate_store(actor=actor, appliance=couple.primary, bundle=bundle, verb="certificate_import")
    return source, bundle


def _backup_assignment(couple: Couple, source: Certificate) -> str | None:
    """The backup's counterpart of the IP the primary assigns the certificate to."""
    if not source.assigned_ip:
        return None
    if couple.shared_ip and source.assigned_ip == couple.shared_ip:
        return source.assigned_ip  # the shared IP moves with the primary role: same assignment
    address = couple.backup.addresses.filter(Q(kind=AddressKind.UNIQUE), enabled=True).order_by("pk").first()
    return address.address if address else None


def _held_by_backup(couple: Couple, source: Certificate) -> Certificate | None:
    certificate_inventory_sync(actor=SYSTEM, appliance=couple.backup)
    return Certificate.objects.filter(
        appliance_id=couple.backup_id, fingerprint_sha256=source.fingerprint_sha256, on_appliance=True
    ).exclude(appliance_certificate_id="").first()


def _backup_import_support(backup) -> tuple[bool, str]:
    """Whether the backup's API can import certificates, and if not, why (for the operator's manual steps)."""
    try:
        capabilities = appliance_client(backup, purpose=ClientPurpose.CERTIFICATE).get_capabilities()
    except ApplianceAuthError:
        return False, "its API account may not change its configuration"
    except ApplianceError as error:
        raise appliance_error(backup, error, "read the capabilities") from error
    if capabilities.supports(IMPORT_ACTION):
        return True, ""
    return False, "its API offers no certificate import"


def couple_certificate_replicate(*, actor, couple: Couple, certificate: Certificate | None = None,
                                 data: bytes | None = None, passphrase: str = "") -> ReplicationResult:
    require_role(actor, couple.organization_id, Role.OPERATOR)
    if data:
        source, bundle = _uploaded_source(actor=actor, couple=couple, data=data, passphrase=passphrase)
    else:
        source = _primary_certificate(couple, certificate)
        if not source.portal_has_key:
            raise ValidationError(
                {"file": f"The portal does not hold the private key of {source}. Export it from the primary "
                         "(with its key and a passphrase) and upload the file here once."}
            )
        bundle = stored_bundle(source, with_key=True)
    via_appliance, why_not = _backup_import_support(couple.backup)
    # A backup that already holds the certificate (an earlier replication, a manual import) only needs the
    # default choice: importing it again would leave a duplicate on the appliance.
    held = _held_by_backup(couple, source) if via_appliance else None
    target = certificate_store(
        actor=actor, appliance=couple.backup, bundle=bundle, friendly_name=source.friendly_name,
        assigned_ip=_backup_assignment(couple, source) or "", make_default=source.is_default and held is None,
        install=via_appliance and held is None, source=CertificateSource.REPLICATION, verb="certificate_replicate",
    )
    if held is not None and source.is_default and not target.is_default:
        apply_default(target)
    if held is not None:
        message = (f"{couple.backup} already held {source}"
                   f"{'; it is now its default certificate' if source.is_default else ''}.")
    elif via_appliance:
        message = f"{source} was installed on {couple.backup}{' as its default certificate' if source.is_default else ''}."
    else:
        message = (f"The portal cannot install the certificate on {couple.backup}: {why_not}. On its /appliance interface, "
                   "Security > Certificates > Import, upload the primary's export with its passphrase, "
                   f"{'set it as the default certificate, ' if source.is_default else ''}then check parity here.")
    audit_record(
        actor=actor, organization=couple.organization, action=AuditAction.ACTION, obj=couple.about,
        verb="certificate_replicate",
        changes={"fingerprint_sha256": source.fingerprint_sha256, "via_appliance": via_appliance,
                 "default": source.is_default, "assigned_ip": target.assigned_ip},
        summary=f"Replicated {source} from {couple.primary} to {couple.backup}",
    )
    check = couple_certificates_check(couple=couple, alert=False) if via_appliance else None
    return ReplicationResult(source=source, target=target, via_appliance=via_appliance, message=message, check=check)
