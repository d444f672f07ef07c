"""Appliance inventory: the appliance, its addresses, its API credentials and how its TLS is trusted."""

import ipaddress

from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from appliances.drivers.trust import TrustSettings
from portal.fields import EncryptedTextField
from portal.models import TenantModel
from portal.netpolicy import validate_outbound_host

from ..validators import validate_ca_bundle, validate_hostname_or_ip, validate_oauth_credential
from .probe_status import ApplianceProbeStatus, probe_status_column

#: Columns an appliance search matches by substring (``appliances.filtersets.ApplianceFilterSet.search``).
SEARCHED_COLUMNS = ("name", "management_host", "site_hostname", "serial_number", "appliance_guid")

guid_validator = RegexValidator(r"^[0-9a-fA-F]{32}$", "An appliance id is 32 hexadecimal characters.")


class FailoverRole(models.TextChoices):
    NONE = "none", "Not in failover"
    PRIMARY = "primary", "Primary"
    BACKUP = "backup", "Backup"


class CapabilityProfile(models.TextChoices):
    UNKNOWN = "unknown", "Not read yet"
    VENDOR = "vendor", "Vendor API only"
    EXTENDED = "extended", "Vendor API and extension actions"


class Appliance(TenantModel):
    name = models.CharField(max_length=100)
    management_host = models.CharField(
        max_length=253,
        validators=[validate_hostname_or_ip],
        help_text="Host name or IP address the portal uses to reach the appliance's API.",
    )
    management_port = models.PositiveIntegerField(
        default=443, validators=[MinValueValidator(1), MaxValueValidator(65535)], verbose_name="TLS port"
    )
    location = models.CharField(
        max_length=100, blank=True, db_index=True,
        help_text="The data centre or site the appliance stands in (e.g. PAR-1): a location can be evacuated.",
    )
    appliance_guid = models.CharField(
        max_length=32, blank=True, validators=[guid_validator], verbose_name="appliance id",
        help_text="The 32-character id the appliance reports (filled in by the first probe when left empty).",
    )
    model = models.CharField(max_length=50, blank=True)
    serial_number = models.CharField(max_length=64, blank=True)
    product_version = models.CharField(max_length=32, blank=True)
    build = models.CharField(max_length=64, blank=True)
    site_hostname = models.CharField(
        max_length=253, blank=True, validators=[validate_hostname_or_ip],
        help_text="The site name this appliance serves, e.g. access.example.com.",
    )

    # API credentials (OAuth client credentials). The secret is encrypted and never shown back.
    client_id = models.CharField(
        max_length=128, blank=True, validators=[validate_oauth_credential], verbose_name="OAuth client id"
    )
    client_secret = EncryptedTextField(blank=True, validators=[validate_oauth_credential], verbose_name="OAuth client secret")
    # Optional least-privilege account for probing (the vendor advises a read-only account for polling); the
    # account above then serves role changes and backups only.
    probe_client_id = models.CharField(max_length=128, blank=True, validators=[validate_oauth_credential],
                                       verbose_name="read-only client id (probing)")
    probe_client_secret = EncryptedTextField(blank=True, validators=[validate_oauth_credential],
                                             verbose_name="read-only client secret (probing)")

    # The password a protected configuration backup asks for (vendor backup API); encrypted, never shown back.
    backup_password = EncryptedTextField(
        blank=True, verbose_name="backup password",
        help_text="Only if the appliance's backups are password-protected. Stored encrypted, never shown again.",
    )

    # TLS trust: a CA bundle, a pin, or both. Never unverified.
    ca_bundle = models.TextField(
        blank=True, validators=[validate_ca_bundle], verbose_name="CA bundle (PEM)",
        help_text="The CA certificate(s) that signed the appliance's certificate.",
    )
    tls_pin = models.CharField(
        max_length=120, blank=True, verbose_name="pinned fingerprint",
        help_text="SHA-256 fingerprint of the appliance certificate (64 hex digits) or of its public key "
        "('sha256//<base64>').",
    )

    probe_interval = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(3600)], help_text="Seconds between probes."
    )
    probe_timeout = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(60)], help_text="Seconds before a probe fails."
    )

    # Latest probe result, written in bulk by the probe loop (never by forms: see model_update), and only when it
    # changes: what a page shows and an event changes. What every probe writes (when it ran, latency, counts,
    # error, next probe) is in the narrow ``ApplianceProbeStatus`` row, read through the properties below.
    status_reachable = models.BooleanField(null=True, editable=False)
    status_healthy = models.BooleanField(null=True, editable=False)
    status_role = models.CharField(max_length=16, choices=FailoverRole.choices, blank=True, editable=False)
    status_version = models.CharField(max_length=100, blank=True, editable=False)
    status_shared_ips = models.JSONField(default=list, blank=True, editable=False)
    status_last_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    status_last_sync_status = models.CharField(max_length=200, blank=True, editable=False)

    status_checked_at = probe_status_column("status_checked_at")
    status_latency_ms = probe_status_column("status_latency_ms")
    status_error = probe_status_column("status_error")
    status_failures = probe_status_column("status_failures")
    status_successes = probe_status_column("status_successes")
    status_failing_since = probe_status_column("status_failing_since")
    next_probe_at = probe_status_column("next_probe_at")

    # Alerts about the appliance (their ``target``): ``Alert.objects.filter(appliance=...)``, deleted with it.
    alerts = GenericRelation("portal.Alert", content_type_field="target_type", object_id_field="target_id",
                             related_query_name="appliance")

    # Capability profile, read from the appliance (x_get_capabilities, or an unknown-action answer): the extension
    # actions it offers. None = never read; [] = the vendor API only.
    extension_actions = models.JSONField(null=True, blank=True, editable=False)
    capabilities_read_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        # Sort orders of the lists served by an index (a platform operator's list spans organisations, so the
        # unique (organization, name) index does not serve it). The search's trigram indexes are made by
        # migration 0007 in SQL (PostgreSQL only; Django cannot spell an operator class on an expression in a
        # GIN index). The sort by last check is not indexed: every probe changes it (it lives in the narrow
        # ApplianceProbeStatus row, scanned for that sort), and an index on it would make every probe write
        # an index entry.
        indexes = [
            models.Index(fields=["name", "id"], name="appliance_name_order"),
            models.Index(fields=["management_host", "id"], name="appliance_host_order"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="appliance_unique_name_per_org"),
            models.UniqueConstraint(
                fields=["organization", "appliance_guid"],
                condition=~models.Q(appliance_guid=""),
                name="appliance_unique_guid_per_org",
                violation_error_message="Another appliance in this organisation has this appliance id.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            # Its probe status row, with any status given at creation (tests, fixtures); never rewritten by a
            # later save, which would put back values a probe has since replaced.
            row = self.probe_status_row
            row.appliance = self
            row.save(force_insert=True, using=self._state.db)

    @property
    def probe_status_row(self) -> ApplianceProbeStatus:
        """The narrow per-probe row (loaded with ``select_related("probe_status")`` by lists): the one for an
        appliance without a row yet (inserted in bulk, not claimed yet) holds the defaults, never checked."""
        related = Appliance.probe_status.related
        if related.is_cached(self):
            row = related.get_cached_value(self)  # None when select_related found no row
        else:
            try:
                row = self.probe_status if self.pk is not None else None
            except ApplianceProbeStatus.DoesNotExist:
                row = None
        if row is None:
            row = ApplianceProbeStatus(appliance_id=self.pk)
            related.set_cached_value(self, row)
        return row

    def get_absolute_url(self) -> str:
        return reverse("appliances:appliance", args=[self.pk])

    def clean(self):
        super().clean()
        if self.appliance_guid:
            self.appliance_guid = self.appliance_guid.lower()
        if not self.ca_bundle and not self.tls_pin:
            raise ValidationError(
                {"ca_bundle": "Give a CA bundle or a pinned fingerprint: the portal never talks to an unverified appliance."}
            )
        if self.tls_pin:
            try:
                TrustSettings(pin=self.tls_pin.strip())
            except ValueError as exc:
                raise ValidationError({"tls_pin": str(exc)}) from exc
        if bool(self.client_id) != bool(self.client_secret):
            raise ValidationError({"client_secret": "Give both the OAuth client id and its secret, or neither."})
        if bool(self.probe_client_id) != bool(self.probe_client_secret):
            raise ValidationError({"probe_client_secret": "Give both the read-only client id and its secret, or "
                                                          "neither."})
        if self.organization_id:
            validate_outbound_host(self.management_host, self.organization, field="management_host")

    @property
    def has_client_secret(self) -> bool:
        return bool(self.client_secret)

    @property
    def has_probe_client_secret(self) -> bool:
        return bool(self.probe_client_secret)

    @property
    def has_backup_password(self) -> bool:
        return bool(self.backup_password)

    @property
    def capability_profile(self) -> str:
        if self.extension_actions is None:
            return CapabilityProfile.UNKNOWN
        return CapabilityProfile.EXTENDED if self.extension_actions else CapabilityProfile.VENDOR

    def get_capability_profile_display(self) -> str:
        return CapabilityProfile(self.capability_profile).label

    def offers(self, action: str) -> bool | None:
        """Whether the appliance offers ``action`` as last read; None when never read."""
        if self.extension_actions is None:
            return None
        return not action.startswith("x_") or action in self.extension_actions

    @property
    def trust(self) -> TrustSettings:
        return TrustSettings(ca_pem=self.ca_bundle or None, pin=self.tls_pin.strip() or None)


class AddressKind(models.TextChoices):
    UNIQUE = "unique", "Unique"
    SHARED = "shared", "Shared"


class ApplianceAddress(TenantModel):
    appliance = models.ForeignKey(Appliance, on_delete=models.CASCADE, related_name="addresses")
    address = models.GenericIPAddressField(unpack_ipv4=True)
    prefix_length = models.PositiveSmallIntegerField(default=24, validators=[MaxValueValidator(128)])
    kind = models.CharField(max_length=8, choices=AddressKind.choices, default=AddressKind.UNIQUE)
    enabled = models.BooleanField(
        default=True, help_text="A shared address is enabled only on the primary; the backup keeps it disabled."
    )

    class Meta:
        ordering = ["appliance__name", "kind", "address"]
        verbose_name_plural = "appliance addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "appliance", "address"], name="address_unique_per_appliance"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address}/{self.prefix_length}"

    def get_absolute_url(self) -> str:
        return self.appliance.get_absolute_url()

    def clean(self):
        super().clean()
        if self.appliance_id and self.organization_id and self.appliance.organization_id != self.organization_id:
            raise ValidationError({"appliance": "The address must belong to an appliance of the same organisation."})
        max_prefix = 32 if ":" not in str(self.address or "") else 128
        if self.prefix_length is not None and self.prefix_length > max_prefix:
            raise ValidationError({"prefix_length": f"A prefix length is at most {max_prefix} for this address."})

    @property
    def network(self):
        return ipaddress.ip_interface(f"{self.address}/{self.prefix_length}").network
