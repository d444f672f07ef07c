"""The default certificate: the one an appliance serves to clients that send no server name (SNI), or one that no
certificate matches. The vendor forbids a self-signed or factory certificate there, and the portal itself is
such a client (it reaches each appliance's API by address), so a default that fails the portal's verification
would lock the portal out of the appliance."""

from cryptography import x509
from django.core.exceptions import ValidationError
from django.db import transaction

from appliances.connect import ClientPurpose, appliance_client
from appliances.drivers import ApplianceError
from portal.models import AuditAction, Role
from portal.permissions import require_role
from portal.services.audit import audit_record

from ..crypto import CertificateDetails, covers_hostname
from ..crypto.chain import build_path
from ..models import Certificate
from .common import appliance_error


def clear_other_defaults(certificate: Certificate) -> None:
    Certificate.objects.filter(appliance_id=certificate.appliance_id, is_default=True).exclude(
        pk=certificate.pk
    ).update(is_default=False)


def _portal_trust_problem(appliance, details: CertificateDetails, chain_pem: str) -> str:
    """Why the portal would reject ``details`` when the appliance serves it on its API, or "" if it would not."""
    if appliance.tls_pin:
        return ""
    if not covers_hostname(details, appliance.management_host):
        return f"the certificate does not cover {appliance.management_host}, the address the portal uses"
    try:
        anchors = x509.load_pem_x509_certificates(appliance.ca_bundle.encode()) if appliance.ca_bundle else []
    except ValueError:
        anchors = []
    leaf = details.to_x509()
    chain = x509.load_pem_x509_certificates(chain_pem.encode()) if chain_pem.strip() else []
    if leaf in anchors or any(c in anchors for c in build_path(leaf, [*chain, *anchors])):
        return ""
    return "the certificate is not issued by a CA in the appliance's CA bundle"


def default_problem(appliance, details: CertificateDetails, chain_pem: str, *, is_factory: bool = False) -> str:
    if is_factory:
        return "The factory certificate cannot be the default certificate; choose one signed by a certificate authority."
    if details.is_self_signed:
        return "A self-signed certificate cannot be the default certificate; choose one signed by a certificate authority."
    problem = _portal_trust_problem(appliance, details, chain_pem)
    if problem:
        return (f"As the default certificate of {appliance} it would also be served to the portal, and {problem}: "
                "the portal could no longer verify the appliance. Fix the certificate, or update the appliance's "
                "CA bundle or pin first.")
    return ""


def check_default_allowed(appliance, details: CertificateDetails, chain_pem: str, *, is_factory: bool = False) -> None:
    problem = default_problem(appliance, details, chain_pem, is_factory=is_factory)
    if problem:
        raise ValidationError({"make_default": problem})


def apply_default(certificate: Certificate) -> None:
    """Tell the appliance to serve ``certificate`` by default and record it (callers check roles and audit)."""
    appliance = certificate.appliance
    if not (certificate.on_appliance and certificate.appliance_certificate_id):
        raise ValidationError("The appliance does not hold this certificate: install it first, or sync the inventory.")
    check_default_allowed(appliance, certificate.details, certificate.chain_pem, is_factory=certificate.is_factory)
    try:
        appliance_client(appliance, purpose=ClientPurpose.CERTIFICATE).set_default_certificate(certificate.appliance_certificate_id)
    except ApplianceError as error:
        raise appliance_error(appliance, error, "change the default certificate") from error
    certificate.is_default = True
    certificate.save(update_fields=["is_default", "updated_at"])
    clear_other_defaults(certificate)


@transaction.atomic
def certificate_set_default(*, actor, certificate: Certificate) -> Certificate:
    """Make a certificate the appliance already holds its default (``x_set_default_certificate``); admins only."""
    require_role(actor, certificate.organization_id, Role.ADMIN)
    apply_default(certificate)
    audit_record(actor=actor, organization=certificate.organization, action=AuditAction.ACTION, obj=certificate,
                 verb="certificate_set_default",
                 summary=f"{certificate} is now the default certificate of {certificate.appliance}")
    return certificate
