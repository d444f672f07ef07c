"""Failover pairs and the per-appliance backup settings."""

import base64
import binascii
import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from appliances.validators import validate_hostname_or_ip
from portal.fields import EncryptedTextField
from portal.models import TenantModel
from portal.netpolicy import validate_outbound_host


def nat_device_host(value: str) -> str:
    try:
        return urlsplit(value if "://" in value else f"https://{value}").hostname or ""
    except ValueError:
        return ""


def validate_nat_device(value: str) -> None:
    """The NAT device's API base URL: https with a host, nothing else. The portal calls it from inside the
    network, so a plain-http or odd URL would let a pair's settings aim the portal at arbitrary services."""
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError:
        raise ValidationError("Give the NAT device's URL, e.g. https://nat.example.com:8443.") from None
    if url.scheme != "https" or not url.hostname:
        raise ValidationError("The NAT device's URL must start with https:// and name a host.")
    if url.username or url.password or url.query or url.fragment:
        raise ValidationError("The NAT device's URL takes no user, password, query or fragment.")


class TsigAlgorithm(models.TextChoices):
    """The TSIG algorithms dnspython signs with (RFC 8945): an unknown name failed only during a failover."""

    HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256"
    HMAC_SHA384 = "hmac-sha384", "HMAC-SHA384"
    HMAC_SHA512 = "hmac-sha512", "HMAC-SHA512"
    HMAC_SHA224 = "hmac-sha224", "HMAC-SHA224"
    HMAC_SHA1 = "hmac-sha1", "HMAC-SHA1"
    HMAC_MD5 = "hmac-md5.sig-alg.reg.int", "HMAC-MD5 (legacy)"


def validate_tsig_secret(value: str) -> None:
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("A TSIG secret is base64 (as in the key file: secret \"…\";).") from None
    if not decoded:
        raise ValidationError("The TSIG secret is empty.")


class NetworkMethod(models.TextChoices):
    SHARED_IP = "shared_ip", "Shared IP"
    DNS_SWING = "dns_swing", "DNS swing"
    NAT_SWING = "nat_swing", "NAT swing"


class PairState(models.TextChoices):
    """The pair state machine (docs/pair-states.md): each state is derived from evidence (both members' probed
    roles and reachability, sync results, the portal's own records) and has a since-time (``state_since``)."""

    NEVER_CHECKED = "never_checked", "Never checked"
    HEALTHY = "healthy", "Healthy"
    RUNNING_ON_BACKUP = "running_on_backup", "Running on the normal backup"
    DEGRADED = "degraded", "Degraded"
    PEER_LINK_LOST = "peer_link_lost", "Peer link lost"
    PRIMARY_UNREACHABLE = "primary_unreachable", "Primary unreachable"
    BACKUP_UNREACHABLE = "backup_unreachable", "Backup unreachable"
    CONFLICT = "conflict", "Conflict: two primaries"
    CONFLICT_NO_PRIMARY = "conflict_no_primary", "Conflict: no primary"
    SYNC_STALE = "sync_stale", "Sync stale"
    BROKEN = "broken", "Broken"
    BROKEN_OUTSIDE = "broken_outside", "Broken outside the portal"
    MAINTENANCE = "maintenance", "Maintenance"

    @classmethod
    def conflicts(cls) -> list[str]:
        """The states Fix this error resolves."""
        return [cls.CONFLICT, cls.CONFLICT_NO_PRIMARY]

    @classmethod
    def attention_order(cls) -> list[str]:
        """Most urgent first: what the dashboard lists first."""
        return [cls.CONFLICT, cls.CONFLICT_NO_PRIMARY, cls.PRIMARY_UNREACHABLE, cls.BROKEN_OUTSIDE,
                cls.PEER_LINK_LOST, cls.BACKUP_UNREACHABLE, cls.BROKEN, cls.SYNC_STALE, cls.DEGRADED,
                cls.RUNNING_ON_BACKUP, cls.MAINTENANCE, cls.NEVER_CHECKED, cls.HEALTHY]


#: ``select_related`` of a pair's members with their probe-status rows: what reading a member's last check,
#: error or failure count (and ``Pair.last_status_check_at``) needs without a query per member.
MEMBERS_WITH_STATUS = ("primary__probe_status", "backup__probe_status")


class Pair(TenantModel):
    """Two appliances serving one site name. ``primary``/``backup`` are the *normal* roles (outside
    maintenance); the roles each holds now come from probes (``Appliance.status_role``)."""

    site_hostname = models.CharField(max_length=253, help_text="The site name the pair serves, e.g. access.example.com.")
    primary = models.ForeignKey(
        "appliances.Appliance", on_delete=models.PROTECT, related_name="pairs_as_primary", verbose_name="normal primary"
    )
    backup = models.ForeignKey(
        "appliances.Appliance", on_delete=models.PROTECT, related_name="pairs_as_backup", verbose_name="normal backup"
    )
    network_method = models.CharField(max_length=16, choices=NetworkMethod.choices, default=NetworkMethod.SHARED_IP)
    # Alerts about the pair (their ``scope``): ``Alert.objects.filter(pair=...)``, deleted with the pair.
    alerts = GenericRelation("portal.Alert", content_type_field="scope_type", object_id_field="scope_id",
                             related_query_name="pair")

    # Shared IP method.
    shared_ip = models.GenericIPAddressField(null=True, blank=True, unpack_ipv4=True)
    # DNS swing method: the record that points the site name at the serving appliance (RFC 2136 update).
    dns_server = models.CharField(max_length=253, blank=True, validators=[validate_hostname_or_ip],
                                  help_text="Authoritative DNS server (host or IP).")
    dns_port = models.PositiveIntegerField(default=53, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    dns_zone = models.CharField(max_length=253, blank=True)
    dns_ttl = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1), MaxValueValidator(86400)])
    dns_tsig_key_name = models.CharField(max_length=253, blank=True)
    dns_tsig_secret = EncryptedTextField(blank=True, validators=[validate_tsig_secret],
                                         help_text="Base64 TSIG secret; stored encrypted, never shown.")
    dns_tsig_algorithm = models.CharField(max_length=32, choices=TsigAlgorithm.choices, default=TsigAlgorithm.HMAC_SHA256)
    # NAT swing method: the public address:port whose translation moves between the two appliances.
    nat_public_address = models.GenericIPAddressField(null=True, blank=True, unpack_ipv4=True)
    nat_public_port = models.PositiveIntegerField(
        default=443, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    nat_device = models.CharField(max_length=253, blank=True, validators=[validate_nat_device],
                                  help_text="Base URL of the NAT device's API, e.g. https://nat.example.com:8443.")

    # Connection details, as entered on the primary when establishing the relationship.
    backup_host = models.CharField(max_length=253, validators=[validate_hostname_or_ip],
                                   help_text="Host or IP the primary uses to reach the backup.")
    backup_port = models.PositiveIntegerField(default=443, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    reverse_host = models.CharField(max_length=253, validators=[validate_hostname_or_ip],
                                    help_text="Host or IP the backup uses to reach the primary.")
    reverse_port = models.PositiveIntegerField(default=443, validators=[MinValueValidator(1), MaxValueValidator(65535)])

    established_at = models.DateTimeField(null=True, blank=True)
    broken_at = models.DateTimeField(null=True, blank=True)

    # Policy.
    sync_stale_after = models.PositiveIntegerField(
        default=26 * 3600, validators=[MinValueValidator(60)],
        help_text="Seconds without a completed data sync before the pair is 'sync stale' and alerts go out.",
    )
    portal_auto_failover = models.BooleanField(
        default=False,
        help_text="Let the portal promote the backup when the primary stays unreachable past the backup's timeout.",
    )

    # Derived state, recomputed from both appliances' latest probes.
    state = models.CharField(max_length=24, choices=PairState.choices, default=PairState.NEVER_CHECKED, db_index=True)
    state_since = models.DateTimeField(null=True, blank=True)
    state_reason = models.CharField(max_length=300, blank=True)
    primary_unreachable_since = models.DateTimeField(null=True, blank=True)
    # A role swap passes through "both backup" for a moment; only past a window is it a conflict.
    both_backup_since = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    # When the portal should next make sure a sync happened (the first one a minute after establishing).
    next_sync_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Fencing token: every role change bumps it; a step carrying an older epoch does nothing.
    epoch = models.PositiveBigIntegerField(default=0)
    # The roles the members last reported and the epoch they were seen at, "<epoch>:<normal primary's>/<normal
    # backup's>" (an unreachable member keeps the role it last reported, so one coming back with a stale role is no
    # role change). A change at the same epoch while no portal operation runs on the pair was made outside the
    # portal (the appliance's own failover, a click in /login): it bumps the epoch and is recorded in
    # ``last_outside_change`` ({"at", "primary", "epoch"}).
    roles_seen = models.CharField(max_length=40, blank=True)
    last_outside_change = models.JSONField(null=True, blank=True)
    # Declared by an operator (pair_maintenance_start/end): while set the pair is in maintenance and its bad
    # states raise no alert, except two primaries (an IP conflict hurts whatever the reason).
    maintenance_since = models.DateTimeField(null=True, blank=True)
    maintenance_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["site_hostname"]
        # A platform operator's pair list spans organisations: the unique (organization, site_hostname) index does
        # not serve its order.
        indexes = [
            models.Index(fields=["site_hostname", "id"], name="pair_site_order"),
            # The dashboard fills its attention list with healthy pairs, longest healthy first
            # (selectors.pairs_needing_attention). The state changes on transitions only, not on every probe.
            models.Index(fields=["state", "state_since", "site_hostname"], name="pair_healthy_order"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "site_hostname"], name="pair_unique_site_per_org"),
            models.UniqueConstraint(fields=["organization", "primary"], name="pair_unique_primary"),
            models.UniqueConstraint(fields=["organization", "backup"], name="pair_unique_backup"),
            models.CheckConstraint(condition=~models.Q(primary=models.F("backup")), name="pair_members_differ"),
        ]

    def __str__(self) -> str:
        return self.site_hostname

    def get_absolute_url(self) -> str:
        return reverse("failover:pair", args=[self.pk])

    @property
    def last_status_check_at(self):
        """When both members were last probed (the older of the two), None until both were. Read from the members'
        probe-status rows, not stored: storing it rewrote every pair row on every sweep (issue 16); lists load
        them with ``select_related("primary__probe_status", "backup__probe_status")``."""
        checked = [member.status_checked_at for member in (self.primary, self.backup)]
        return min(checked) if all(checked) else None

    @property
    def members(self):
        return (self.primary, self.backup)

    def peer_of(self, appliance):
        return self.backup if appliance.pk == self.primary_id else self.primary

    def member(self, appliance_id):
        """The member with this id (as a form or request names it), or a field error on ``appliance``."""
        for appliance in self.members:
            if str(appliance.pk) == str(appliance_id):
                return appliance
        raise ValidationError({"appliance": "Choose one of the pair's two appliances."})

    def clean(self):
        super().clean()
        if self.network_method == NetworkMethod.SHARED_IP and not self.shared_ip:
            raise ValidationError({"shared_ip": "The shared IP method needs the shared IP address."})
        if self.network_method == NetworkMethod.DNS_SWING and not (self.dns_server and self.dns_zone):
            raise ValidationError({"dns_server": "DNS swing needs the DNS server and the zone of the site name."})
        if self.network_method == NetworkMethod.NAT_SWING and not self.nat_public_address:
            raise ValidationError({"nat_public_address": "NAT swing needs the public address of the site."})
        if self.organization_id:
            # The portal itself connects to these two: held to the outbound address policy.
            validate_outbound_host(self.dns_server, self.organization, field="dns_server")
            if self.nat_device:
                validate_outbound_host(nat_device_host(self.nat_device), self.organization, field="nat_device")


def validate_sync_interval(value: int) -> None:
    if value != 0 and not 300 <= value <= 7 * 86400:
        raise ValidationError("Give 0 (no automatic syncs) or between 300 seconds (5 minutes) and 604800 (7 days).")


class Provenance(models.TextChoices):
    """Where a value the portal shows comes from."""

    READ = "read", "Read from the appliance"
    DECLARED = "declared", "Declared by an admin"
    UNKNOWN = "unknown", "Unknown"


class BackupSettings(TenantModel):
    """An appliance's backup settings: per site instance, used only while it is the backup, not synchronised.

    The vendor API can neither read nor write them: they are *read* only from an appliance with the extension,
    otherwise *declared* by an admin (who applies them on the appliance by hand); a row neither read nor declared
    holds defaults that are *unknown* and that no decision may treat as a reading."""

    appliance = models.OneToOneField("appliances.Appliance", on_delete=models.CASCADE, related_name="backup_settings")
    enable_backup_operations = models.BooleanField(default=True)
    primary_timeout = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(30), MaxValueValidator(86400)],
        help_text="Seconds the primary must be unreachable before automatic failover.",
    )
    sync_interval = models.PositiveIntegerField(
        default=3600, validators=[validate_sync_interval],
        help_text="Seconds between automatic data syncs (300 to 604800); 0 turns automatic syncs off.",
    )
    bandwidth_limit = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(10_000_000)], help_text="Kbit/s for data syncs; 0 means unlimited."
    )
    automatic_failover = models.BooleanField(default=False)
    connectivity_test_ips = models.JSONField(default=list, blank=True)
    read_from_appliance_at = models.DateTimeField(null=True, blank=True)
    declared_at = models.DateTimeField(null=True, blank=True, editable=False)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    editable=False, related_name="+")

    class Meta:
        verbose_name_plural = "backup settings"

    def __str__(self) -> str:
        return f"Backup settings of {self.appliance}"

    @property
    def provenance(self) -> str:
        if self.read_from_appliance_at and (not self.declared_at or self.read_from_appliance_at >= self.declared_at):
            return Provenance.READ
        return Provenance.DECLARED if self.declared_at else Provenance.UNKNOWN

    def get_provenance_display(self) -> str:
        return Provenance(self.provenance).label

    @property
    def known(self) -> bool:
        return self.provenance != Provenance.UNKNOWN

    def clean(self):
        super().clean()
        ips = self.connectivity_test_ips
        if not isinstance(ips, list):
            raise ValidationError({"connectivity_test_ips": "Give a list of IP addresses."})
        for ip in ips:
            try:
                ipaddress.ip_address(str(ip))
            except ValueError:
                raise ValidationError({"connectivity_test_ips": f"“{ip}” is not an IP address."}) from None
        if self.appliance_id and self.organization_id and self.appliance.organization_id != self.organization_id:
            raise ValidationError({"appliance": "The appliance belongs to another organisation."})
