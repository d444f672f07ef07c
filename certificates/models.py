"""Certificate inventory (what each appliance holds) and served-certificate observations (what it really serves).

A ``Certificate`` row stores the parsed facts of one certificate as columns (so lists filter and sort in the
database), the PEM of the certificate and its chain, and optionally the private key, encrypted at rest and never
rendered. A ``ServedCertificate`` row is the latest TLS observation of one appliance for one SNI choice; the
parity between the two members of a pair is read from these rows.
"""

from functools import cached_property

from cryptography import x509
from django.db import models
from django.urls import reverse

from portal.fields import EncryptedTextField
from portal.models import TenantModel

from .crypto import CertificateDetails, parse_certificate, parse_pem


class CertificateSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded to the portal"
    APPLIANCE = "appliance", "Read from the appliance"
    REPLICATION = "replication", "Replicated from the pair's primary"


class Certificate(TenantModel):
    appliance = models.ForeignKey("appliances.Appliance", on_delete=models.CASCADE, related_name="certificates")
    friendly_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=1000)
    common_name = models.CharField(max_length=255, blank=True)
    issuer = models.CharField(max_length=1000)
    issuer_common_name = models.CharField(max_length=255, blank=True)
    dns_names = models.JSONField(default=list, blank=True)
    ip_addresses = models.JSONField(default=list, blank=True)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(db_index=True)
    serial = models.CharField(max_length=64)
    fingerprint_sha256 = models.CharField(max_length=64, verbose_name="SHA-256 fingerprint")
    spki_sha256 = models.CharField(max_length=64, verbose_name="public key SHA-256")
    key_type = models.CharField(max_length=16)
    key_size = models.PositiveIntegerField(null=True, blank=True)
    signature_hash = models.CharField(max_length=32, blank=True)
    is_self_signed = models.BooleanField(default=False)
    is_lets_encrypt = models.BooleanField(default=False)
    certificate_pem = models.TextField()
    chain_pem = models.TextField(blank=True, help_text="Issuer certificates, leaf's issuer first.")
    # The portal's copy of the key (PKCS#8 PEM), Fernet-encrypted; empty when the portal never received it.
    private_key = EncryptedTextField(blank=True)
    # Whether the appliance holds the key (a certificate read from the appliance reports it, an upload
    # with a key installed on the appliance implies it).
    appliance_has_key = models.BooleanField(default=False)
    # The appliance's own answer to "do you hold the chain?" (its inventory API lists the leaf only).
    appliance_has_chain = models.BooleanField(null=True, blank=True)

    # Where the certificate is used on its appliance.
    on_appliance = models.BooleanField(
        default=False, help_text="The appliance reported holding this certificate at the last inventory sync."
    )
    appliance_certificate_id = models.CharField(max_length=64, blank=True, help_text="The appliance's own id.")
    assigned_ip = models.GenericIPAddressField(null=True, blank=True, unpack_ipv4=True, verbose_name="assigned IP")
    is_default = models.BooleanField(
        default=False, help_text="Served to clients that send no server name (SNI) or one no certificate matches."
    )
    is_factory = models.BooleanField(default=False, help_text="The certificate the appliance shipped with.")
    source = models.CharField(max_length=16, choices=CertificateSource.choices, default=CertificateSource.UPLOAD)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["appliance__name", "-is_default", "not_after", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "appliance", "fingerprint_sha256"],
                name="certificate_unique_per_appliance",
                violation_error_message="This appliance already has this certificate.",
            ),
        ]

    def __str__(self) -> str:
        return self.friendly_name or self.common_name or self.fingerprint_sha256[:16]

    def get_absolute_url(self) -> str:
        return reverse("certificates:certificate", args=[self.pk])

    @property
    def names(self) -> list[str]:
        return [*self.dns_names, *self.ip_addresses]

    @property
    def has_private_key(self) -> bool:
        """A private key is held somewhere we know of: in the portal (encrypted) or on the appliance."""
        return bool(self.private_key) or self.appliance_has_key

    @property
    def portal_has_key(self) -> bool:
        return bool(self.private_key)

    @property
    def fingerprint_display(self) -> str:
        return self.details.fingerprint_display

    @cached_property
    def details(self) -> CertificateDetails:
        return parse_pem(self.certificate_pem)

    @cached_property
    def chain(self) -> list[x509.Certificate]:
        return x509.load_pem_x509_certificates(self.chain_pem.encode()) if self.chain_pem.strip() else []

    @cached_property
    def chain_details(self) -> list[CertificateDetails]:
        return [parse_certificate(c) for c in self.chain]


class ServedCertificate(TenantModel):
    """The latest certificate one appliance served for one SNI choice (``server_name`` "" = no SNI)."""

    appliance = models.ForeignKey(
        "appliances.Appliance", on_delete=models.CASCADE, related_name="served_certificates"
    )
    server_name = models.CharField(max_length=253, blank=True, help_text="SNI sent; empty means none.")
    checked_at = models.DateTimeField()
    fingerprint_sha256 = models.CharField(max_length=64, blank=True)
    spki_sha256 = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=1000, blank=True)
    issuer = models.CharField(max_length=1000, blank=True)
    names = models.JSONField(default=list, blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="Why the certificate could not be read.")
    # Whether the served fingerprint is one the inventory lists for the appliance (None: inventory empty).
    in_inventory = models.BooleanField(null=True)
    previous_fingerprint = models.CharField(max_length=64, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="When the served certificate last changed.")

    class Meta:
        ordering = ["appliance__name", "server_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "appliance", "server_name"], name="served_certificate_unique_per_sni"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appliance} ({self.server_name or 'no SNI'})"

    def get_absolute_url(self) -> str:
        return reverse("appliances:appliance", args=[self.appliance_id])

    @property
    def ok(self) -> bool:
        return bool(self.fingerprint_sha256) and not self.error
