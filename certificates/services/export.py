"""Export a stored certificate (with its chain, optionally its private key) as PKCS#12 or PEM.

Exporting the private key is reserved to organisation admins and always audited; the passphrase and the key
never reach the audit log.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from portal.models import AuditAction, Role
from portal.permissions import require_role
from portal.services.audit import audit_record

from ..crypto import CertificateError, ExportFormat, export_bundle
from ..models import Certificate
from .inventory import stored_bundle

MIN_EXPORT_PASSPHRASE = 8
EXPORT_CONTENT_TYPES = {ExportFormat.PKCS12: "application/x-pkcs12", ExportFormat.PEM: "application/x-pem-file"}
_EXTENSIONS = {ExportFormat.PKCS12: "p12", ExportFormat.PEM: "pem"}


@dataclass(frozen=True)
class ExportedFile:
    filename: str
    content_type: str
    data: bytes


def _filename(certificate: Certificate, export_format: ExportFormat, include_key: bool) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(certificate)).strip("._") or "certificate"
    return f"{stem}{'-with-key' if include_key else ''}.{_EXTENSIONS[export_format]}"


def certificate_export(*, actor, certificate: Certificate, export_format: str = ExportFormat.PKCS12,
                       include_key: bool = False, include_chain: bool = True, passphrase: str = "") -> ExportedFile:
    export_format = ExportFormat(export_format)
    require_role(actor, certificate.organization_id, Role.ADMIN if include_key else Role.VIEWER)
    if include_key:
        if not certificate.portal_has_key:
            raise ValidationError({"include_key": "The portal does not hold this certificate's private key."})
        if len(passphrase or "") < MIN_EXPORT_PASSPHRASE:
            raise ValidationError(
                {"passphrase": f"A passphrase of at least {MIN_EXPORT_PASSPHRASE} characters protects the private key."}
            )
    try:
        data = export_bundle(
            stored_bundle(certificate, with_key=include_key), export_format, include_key=include_key,
            include_chain=include_chain, passphrase=passphrase or None,
        )
    except CertificateError as error:
        raise ValidationError({"passphrase" if error.code == "passphrase_required" else "__all__": error.message}) from error
    audit_record(
        actor=actor, organization=certificate.organization, action=AuditAction.ACTION, obj=certificate,
        verb="certificate_export_private_key" if include_key else "certificate_export",
        changes={"format": export_format.value, "private_key": include_key, "chain": include_chain,
                 "passphrase_protected": bool(passphrase)},
        summary=f"Exported {certificate} as {export_format.value}{' with its private key' if include_key else ''}",
    )
    return ExportedFile(
        filename=_filename(certificate, export_format, include_key),
        content_type=EXPORT_CONTENT_TYPES[export_format],
        data=data,
    )
