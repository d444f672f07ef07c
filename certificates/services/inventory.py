"""Writes to the certificate inventory: import an uploaded file, read an appliance's certificates, delete.

Every import is all-or-nothing: the file is fully parsed and checked (and, when asked, accepted by the
appliance) before a row is written, so a wrong passphrase or a mismatched key leaves no trace.
"""

from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appliances.connect import ClientPurpose, appliance_client
from appliances.drivers import ApplianceError
from portal.models import AuditAction, Role
from portal.permissions import SYSTEM, require_role
from portal.services.audit import SECRET_MARK, audit_record
from portal.services.common import model_delete

from ..conf import max_kdf_iterations, max_upload_size
from ..crypto import (
    CertificateDetails,
    CertificateError,
    ImportedBundle,
    import_bundle,
    parse_pem,
)
from ..models import Certificate, CertificateSource
from .common import appliance_error, validation_error
from .defaults import check_default_allowed, clear_other_defaults


def pem_of(certificates) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certificates)


def key_pem_of(private_key) -> str:
    """Unencrypted PKCS#8: only ever stored through the encrypted field or sent to an appliance over TLS."""
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def detail_fields(details: CertificateDetails) -> dict:
    """The parsed facts of a certificate as model fields."""
    return {
        "subject": details.subject,
        "common_name": details.common_name or "",
        "issuer": details.issuer,
        "issuer_common_name": details.issuer_common_name or "",
        "dns_names": list(details.dns_names),
        "ip_addresses": list(details.ip_addresses),
        "not_before": details.not_before,
        "not_after": details.not_after,
        "serial": details.serial,
        "fingerprint_sha256": details.fingerprint_sha256,
        "spki_sha256": details.spki_sha256,
        "key_type": details.key_type,
        "key_size": details.key_size,
        "signature_hash": details.signature_hash or "",
        "is_self_signed": details.is_self_signed,
        "is_lets_encrypt": details.is_lets_encrypt,
        "certificate_pem": details.pem,
    }


def stored_bundle(certificate: Certificate, *, with_key: bool = False) -> ImportedBundle:
    """The stored certificate (and chain, and key when asked) in the form the crypto layer exports."""
    key = None
    if with_key and certificate.private_key:
        key = serialization.load_pem_private_key(certificate.private_key.encode("ascii"), None)
    return ImportedBundle(
        certificate=x509.load_pem_x509_certificate(certificate.certificate_pem.encode("ascii")),
        chain=tuple(certificate.chain),
        private_key=key,
        friendly_name=certificate.friendly_name or None,
        source_format="stored",
    )


def read_bundle(*, data: bytes, passphrase: str = "") -> ImportedBundle:
    try:
        return import_bundle(data, passphrase or None, max_size=max_upload_size(),
                             max_kdf_iterations=max_kdf_iterations())
    except CertificateError as error:
        raise validation_error(error) from error


def install_on_appliance(*, appliance, certificate_pem: str, key_pem: str, chain_pem: str,
                         friendly_name: str, make_default: bool) -> str:
    """Push a certificate with its key to the appliance (extension API); returns the appliance's id for it."""
    if not key_pem:
        raise ValidationError({"file": "Installing on the appliance needs the private key; include it in the file."})
    if make_default:
        check_default_allowed(appliance, parse_pem(certificate_pem), chain_pem)
    client = appliance_client(appliance, purpose=ClientPurpose.CERTIFICATE)
    try:
        result = client.import_certificate(
            certificate=certificate_pem, private_key=key_pem, chain=chain_pem or None,
            friendly_name=friendly_name or None, make_default=make_default,
        )
    except ApplianceError as error:
        raise appliance_error(appliance, error, "install the certificate") from error
    return result.id


@transaction.atomic
def certificate_store(*, actor, appliance, bundle: ImportedBundle, friendly_name: str = "",
                      assigned_ip: str | None = None, make_default: bool = False, install: bool = False,
                      source: str = CertificateSource.UPLOAD, verb: str = "certificate_import") -> Certificate:
    """Record ``bundle`` in ``appliance``'s inventory (updating the row when the certificate is known)."""
    details = bundle.details
    key_pem = key_pem_of(bundle.private_key) if bundle.private_key is not None else ""
    chain_pem = pem_of(bundle.chain)
    certificate = (
        Certificate.objects.select_for_update()
        .filter(organization_id=appliance.organization_id, appliance=appliance,
                fingerprint_sha256=details.fingerprint_sha256)
        .first()
    )
    created = certificate is None
    # An explicit name wins, then the file's, then the name already recorded (e.g. the appliance's), then the CN.
    known_name = "" if created else certificate.friendly_name
    name = (friendly_name or bundle.friendly_name or known_name or details.common_name or "")[:200]
    if created:
        certificate = Certificate(organization_id=appliance.organization_id, appliance=appliance, source=source)
    for attribute, value in detail_fields(details).items():
        setattr(certificate, attribute, value)
    certificate.friendly_name = name
    if chain_pem or created:
        certificate.chain_pem = chain_pem
    if key_pem:
        certificate.private_key = key_pem
    if assigned_ip is not None:
        certificate.assigned_ip = assigned_ip or None
    if make_default:
        certificate.is_default = True
    # Validate, then act: a bad field (an assigned IP, a name) must not leave a certificate installed on the
    # appliance that the portal then refuses to record.
    certificate.full_clean(validate_unique=False)
    if install:
        certificate.appliance_certificate_id = install_on_appliance(
            appliance=appliance, certificate_pem=details.pem, key_pem=key_pem, chain_pem=chain_pem,
            friendly_name=name, make_default=make_default,
        )
        certificate.on_appliance = True
        certificate.appliance_has_key = True
    certificate.save()
    if certificate.is_default:
        clear_other_defaults(certificate)
    changes = {
        "fingerprint_sha256": details.fingerprint_sha256,
        "subject": details.subject,
        "chain_certificates": len(bundle.chain),
        "installed_on_appliance": install,
        "default": certificate.is_default,
    }
    if key_pem:
        changes["private_key"] = SECRET_MARK
    audit_record(
        actor=actor, organization=appliance.organization, action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=certificate, verb=verb, changes=changes,
        summary=f"{details.common_name or details.subject} ({bundle.source_format}) for {appliance}",
    )
    return certificate


def certificate_import(*, actor, appliance, data: bytes, passphrase: str = "", friendly_name: str = "",
                       assigned_ip: str | None = None, make_default: bool = False,
                       install: bool = False) -> Certificate:
    """Import a PKCS#12 or PEM file into an appliance's inventory (and onto the appliance when ``install``)."""
    require_role(actor, appliance.organization_id, Role.ADMIN)
    bundle = read_bundle(data=data, passphrase=passphrase)
    return certificate_store(
        actor=actor, appliance=appliance, bundle=bundle, friendly_name=friendly_name, assigned_ip=assigned_ip,
        make_default=make_default, install=install,
    )


def certificate_delete(*, actor, certificate: Certificate) -> None:
    """Forget a certificate in the portal (the appliance keeps it)."""
    require_role(actor, certificate.organization_id, Role.ADMIN)
    model_delete(actor=actor, instance=certificate)


@dataclass
class InventorySyncResult:
    created: list[Certificate] = field(default_factory=list)
    updated: list[Certificate] = field(default_factory=list)
    gone: int = 0
    skipped: list[str] = field(default_factory=list)


def _is_false(value: str | None) -> bool:
    return (value or "").strip().lower() in ("0", "false", "no")


@transaction.atomic
def certificate_inventory_sync(*, actor, appliance) -> InventorySyncResult:
    """Read the certificates the appliance holds (``x_get_certificates``) into its inventory.

    The answer is untrusted: a certificate is recorded only when its PEM parses and its fingerprint is the one
    the appliance claims. Rows the appliance no longer lists are kept (the portal may hold their key) but marked
    as no longer on the appliance.
    """
    require_role(actor, appliance.organization_id, Role.OPERATOR)
    try:
        reported = appliance_client(appliance, purpose=ClientPurpose.CERTIFICATE).get_certificates()
    except ApplianceError as error:
        raise appliance_error(appliance, error, "read the certificates") from error
    now = timezone.now()
    result = InventorySyncResult()
    known = {c.fingerprint_sha256: c for c in Certificate.objects.select_for_update().filter(appliance=appliance)}
    seen: set[str] = set()
    for info in reported:
        try:
            details = parse_pem(info.pem)
        except ValueError:
            result.skipped.append(f"{info.friendly_name or info.id}: the appliance sent no readable certificate")
            continue
        if details.fingerprint_sha256 != info.sha256_fingerprint:
            result.skipped.append(f"{info.friendly_name or info.id}: the fingerprint does not match the certificate")
            continue
        seen.add(details.fingerprint_sha256)
        certificate = known.get(details.fingerprint_sha256)
        if certificate is None:
            certificate = Certificate(
                organization_id=appliance.organization_id, appliance=appliance, source=CertificateSource.APPLIANCE
            )
            result.created.append(certificate)
        else:
            result.updated.append(certificate)
        for attribute, value in detail_fields(details).items():
            setattr(certificate, attribute, value)
        certificate.friendly_name = (info.friendly_name or certificate.friendly_name or details.common_name or "")[:200]
        certificate.on_appliance = True
        certificate.appliance_certificate_id = info.id[:64]
        certificate.is_default = info.is_default
        certificate.is_factory = _is_false(info.extra.get("imported"))
        certificate.appliance_has_key = not _is_false(info.extra.get("private_key", "1")) and not details.is_ca
        if "has_chain" in info.extra:
            certificate.appliance_has_chain = not _is_false(info.extra["has_chain"])
        certificate.synced_at = now
        certificate.save()
    gone = [c.pk for f, c in known.items() if f not in seen and c.on_appliance]
    result.gone = Certificate.objects.filter(pk__in=gone).update(on_appliance=False, is_default=False)
    # The appliance is the authority on its default: a row marked default by hand but not reported so is not.
    reported_defaults = [c.pk for c in result.created + result.updated if c.is_default]
    Certificate.objects.filter(appliance=appliance, is_default=True).exclude(pk__in=reported_defaults).update(
        is_default=False
    )
    # The hourly sync of every appliance (the system) is not audited: only what a person asked for.
    if actor is not SYSTEM:
        audit_record(
            actor=actor, organization=appliance.organization, action=AuditAction.ACTION, obj=appliance,
            verb="certificate_sync",
            summary=f"{len(result.created)} new, {len(result.updated)} known, {result.gone} no longer on the appliance",
        )
    return result
