"""Tenancy-test entries for the certificates app's models (see tests/tenant_registry.py)."""

from appliances.models import Appliance
from certificates.crypto import generate
from certificates.models import Certificate, ServedCertificate
from tests.factories import ApplianceFactory, CertificateFactory, ServedCertificateFactory
from tests.factories.certificates import factory_ca
from tests.tenant_registry import Entry


def _import_payload(org):
    """A JSON import (PEM text with the key) for an appliance of ``org``."""
    appliance = Appliance.objects.filter(organization=org).first()
    issued = generate.make_leaf(factory_ca(), "tenancy.example.com")
    return {"appliance": appliance.pk, "content": (issued.cert_pem + issued.key_pem).decode()}


def _import_form(org):
    appliance = Appliance.objects.filter(organization=org).first()
    return {"appliance": appliance.pk, "passphrase": ""}


ENTRIES = {
    Certificate: Entry(
        make=lambda org, marker: CertificateFactory(
            appliance=ApplianceFactory(organization=org, name=f"{marker}-cert-host"), friendly_name=marker
        ),
        payload=_import_payload,
        form_payload=_import_form,
    ),
    ServedCertificate: Entry(
        make=lambda org, marker: ServedCertificateFactory(
            appliance=ApplianceFactory(organization=org, name=f"{marker}-served-host"), subject=f"CN={marker}"
        ),
    ),
}
