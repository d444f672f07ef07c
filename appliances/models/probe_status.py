"""An appliance's per-probe bookkeeping, in its own narrow row (issue 16).

Every probe writes when it ran, its latency, the failure/success counts, when the current run of failures
started, the latest error and when the next probe is due. On the ~1.1 KB appliance row those writes rewrote the
whole row twice per probe, and never as a HOT update (``next_probe_at`` and ``status_checked_at`` were indexed).
Here a probe rewrites a ~80-byte row whose only index is its primary key, so PostgreSQL can keep the new version
on the same page without touching any index (a HOT update; ``fillfactor`` leaves room on each page for it).
Nothing may index these columns: the dispatcher finds due appliances by scanning this small table, and the
appliance list sorts by last check the same way (see ``appliances.selectors.with_probe_status``).

The appliance row keeps what a page shows and what changes only when something happens (reachable, healthy,
role, version, shared IPs, last sync): the probe writes it only then.

``Appliance`` reads and writes these columns through properties of the same names (``appliance.status_error``),
so code and templates that read the status need no change; lists load the row with
``select_related("probe_status")`` (one query for the page, not one per appliance).
"""

from django.db import connection, models

#: The columns of the narrow row, readable and writable on ``Appliance`` under the same names.
PROBE_STATUS_FIELDS = (
    "status_checked_at",
    "status_latency_ms",
    "status_error",
    "status_failures",
    "status_successes",
    "status_failing_since",
    "next_probe_at",
)

#: Pages filled to 30 %: room for the new version of every row of a page within one statement (the claim and
#: the batch write update all their rows at once, and the old versions cannot be pruned before the statement
#: ends). At 50 % the bench measured 71 % of the updates HOT (the others found their page full); the cost is
#: 10,000 rows in ~3 MB instead of ~1 MB.
FILLFACTOR = 30


class ApplianceProbeStatus(models.Model):
    # Created with the appliance (``Appliance.save``); an appliance inserted in bulk gets its row at its first
    # claim (``missing_claim``). Until then its properties read these defaults: never checked.
    appliance = models.OneToOneField("appliances.Appliance", on_delete=models.CASCADE, primary_key=True,
                                     related_name="probe_status")
    status_checked_at = models.DateTimeField(null=True, blank=True)
    status_latency_ms = models.FloatField(null=True, blank=True)
    status_error = models.CharField(max_length=500, blank=True)
    status_failures = models.PositiveIntegerField(default=0)
    status_successes = models.PositiveIntegerField(default=0)
    # The first failed probe of the current run of failures: an outage starts here, not when it is confirmed
    # (``failures_to_down`` probes later). Cleared when the appliance is believed up again.
    status_failing_since = models.DateTimeField(null=True, blank=True)
    # No index (see the module's docstring): the claim scans this table.
    next_probe_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "appliance probe status"
        verbose_name_plural = "appliance probe statuses"

    def __str__(self) -> str:
        return f"probe status of appliance {self.appliance_id}"

    @classmethod
    def missing_claim(cls, *, next_probe_at, limit: int) -> list[int]:
        """Create the rows of up to ``limit`` appliances that have none (inserted in bulk, never probed), with
        ``next_probe_at`` set: ids of the appliances this call created a row for, so claimed by the caller (a
        concurrent caller's conflicting insert does nothing and returns nothing)."""
        table, appliances = cls._meta.db_table, cls._meta.get_field("appliance").related_model._meta.db_table
        with connection.cursor() as cursor:
            # Only table names from the models are interpolated; values are parameters.
            cursor.execute(
                f'INSERT INTO "{table}" (appliance_id, next_probe_at, status_error, status_failures, '  # noqa: S608
                f'status_successes) SELECT a.id, %s, \'\', 0, 0 FROM "{appliances}" a WHERE NOT EXISTS '
                f'(SELECT 1 FROM "{table}" s WHERE s.appliance_id = a.id) ORDER BY a.id LIMIT %s '
                f"ON CONFLICT (appliance_id) DO NOTHING RETURNING appliance_id",
                [next_probe_at, limit],
            )
            return [row[0] for row in cursor.fetchall()]


def probe_status_column(name: str) -> property:
    """``Appliance.<name>``: the column of the appliance's narrow probe-status row."""

    def get(self):
        return getattr(self.probe_status_row, name)

    def set_(self, value):
        setattr(self.probe_status_row, name, value)

    return property(get, set_, doc=f"The appliance's ``ApplianceProbeStatus.{name}``.")
