"""Certificate factories. The certificates are real (built with ``certificates.crypto.generate``), so every
parsed column agrees with the stored PEM."""

from functools import lru_cache

import factory
from django.utils import timezone

from certificates.crypto import generate, parse_certificate
from certificates.models import Certificate, CertificateSource, ServedCertificate
from certificates.services.inventory import detail_fields, key_pem_of, pem_of

from .appliances import ApplianceFactory


@lru_cache(maxsize=1)
def factory_ca() -> generate.Issued:
    """One issuing CA for the whole test run (key generation is the slow part)."""
    return generate.make_ca("Factory Test CA")


class CertificateFactory(factory.django.DjangoModelFactory):
    """``CertificateFactory(appliance=..., issued=Issued, with_key=True, chain=[Issued...])``.

    Without ``issued`` a CA-signed leaf for the appliance's site host name is generated.
    """

    class Meta:
        model = Certificate

    appliance = factory.SubFactory(ApplianceFactory)
    organization = factory.SelfAttribute("appliance.organization")
    source = CertificateSource.UPLOAD

    @classmethod
    def _create(cls, model_class, *args, issued=None, with_key=False, chain=None, **kwargs):
        appliance = kwargs["appliance"]
        if issued is None:
            name = appliance.site_hostname or "access.example.com"
            issued = generate.make_leaf(factory_ca(), name)
            chain = [factory_ca()] if chain is None else chain
        fields = detail_fields(parse_certificate(issued.certificate))
        fields["chain_pem"] = pem_of([c.certificate for c in chain or []])
        fields["friendly_name"] = fields["common_name"]
        if with_key:
            fields["private_key"] = key_pem_of(issued.key)
        fields.update(kwargs)
        return super()._create(model_class, *args, **fields)


class ServedCertificateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServedCertificate

    appliance = factory.SubFactory(ApplianceFactory)
    organization = factory.SelfAttribute("appliance.organization")
    server_name = ""
    checked_at = factory.LazyFunction(timezone.now)
    fingerprint_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    spki_sha256 = factory.Sequence(lambda n: f"{n + 1:064x}")
    subject = "CN=served.example.com"
    issuer = "CN=Factory Test CA"
