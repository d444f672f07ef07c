"""Probe locations: where an appliance is probed from, and what each location saw last.

A location is a Celery queue (``probes.<name>``) served by probe workers that run near the appliances, on any
host that reaches the broker. The default location, ``local``, is the plain ``probes`` queue: an appliance that
is only probed from there (every appliance until someone assigns locations) is probed exactly as before.

``ProbeLocation`` is platform data (a network vantage point the platform runs, shared by organisations): its
isolation state is a fact about that network, not about one tenant. Which locations probe an organisation's
appliances, and how many of them must agree before a primary counts as down, is the organisation's own.
"""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from portal.models import TenantModel

#: The location every install has: the plain ``probes`` queue.
LOCAL_LOCATION = "local"

location_name_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{0,39}$", "A location name is 1-40 lowercase letters, digits, '-' or '_' (it names a queue).")


class ProbeLocation(models.Model):
    """A vantage point (platform-wide). Its row is created on first use; ``local`` needs none to exist."""

    name = models.CharField(max_length=40, unique=True, validators=[location_name_validator])
    description = models.CharField(max_length=200, blank=True)
    reference_targets = models.JSONField(
        default=list, blank=True,
        help_text="host:port targets this location must reach to trust its own network (any TCP answer counts). "
                  "When none answers, the location is isolated.")
    isolated_since = models.DateTimeField(null=True, blank=True)
    isolation_reason = models.CharField(max_length=300, blank=True)
    last_report_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def isolated(self) -> bool:
        return self.isolated_since is not None


class ProbeSettings(TenantModel):
    """An organisation's default locations and quorum (no row: probed from ``local`` alone, majority quorum)."""

    organization = models.OneToOneField("portal.Organization", on_delete=models.CASCADE, related_name="probe_settings")
    locations = models.JSONField(default=list, blank=True, help_text="Default probe locations (names).")
    quorum = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Locations that must see a primary down before automatic failover (empty: a majority).")

    class Meta:
        verbose_name_plural = "probe settings"

    def __str__(self) -> str:
        return f"{self.organization}: {', '.join(self.locations) or LOCAL_LOCATION}"


class ApplianceProbeLocations(TenantModel):
    """Per-appliance override of the organisation's default locations."""

    appliance = models.OneToOneField("appliances.Appliance", on_delete=models.CASCADE, related_name="probe_locations")
    locations = models.JSONField(default=list)

    class Meta:
        verbose_name_plural = "appliance probe locations"
        constraints = [models.UniqueConstraint(fields=["organization", "appliance"], name="probe_locations_unique")]

    def __str__(self) -> str:
        return f"{self.appliance}: {', '.join(self.locations)}"


class LocationStatus(TenantModel):
    """The latest (debounced) view of one appliance from one location; the same ``status_*`` columns as the
    appliance row, so the same anti-flap rules (``probing/transitions.py``) apply to both."""

    appliance = models.ForeignKey("appliances.Appliance", on_delete=models.CASCADE, related_name="location_statuses")
    location = models.CharField(max_length=40)
    status_checked_at = models.DateTimeField(null=True, blank=True)
    status_reachable = models.BooleanField(null=True)
    status_healthy = models.BooleanField(null=True)
    status_latency_ms = models.FloatField(null=True, blank=True)
    status_role = models.CharField(max_length=16, blank=True)
    status_version = models.CharField(max_length=100, blank=True)
    status_shared_ips = models.JSONField(default=list, blank=True)
    status_last_sync_at = models.DateTimeField(null=True, blank=True)
    status_last_sync_status = models.CharField(max_length=200, blank=True)
    status_error = models.CharField(max_length=500, blank=True)
    status_failures = models.PositiveIntegerField(default=0)
    status_successes = models.PositiveIntegerField(default=0)
    status_failing_since = models.DateTimeField(null=True, blank=True)  # this location's first failed probe
    next_probe_at = models.DateTimeField(null=True, blank=True)
    # Sent to this location's queue and not reported yet (until then no second batch goes there): a slow or
    # stopped location must not be sent the appliance again each time a faster location asks for its next probe.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The standby's connectivity test IPs as knocked from this location (None: not knocked).
    connectivity_ok = models.BooleanField(null=True)
    connectivity_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["appliance_id", "location"]
        constraints = [models.UniqueConstraint(fields=["organization", "appliance", "location"],
                                               name="location_status_unique")]

    def __str__(self) -> str:
        return f"{self.appliance_id}@{self.location}: {self.status_reachable}"
