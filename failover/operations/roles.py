"""Reading the roles both members hold now, straight from the appliances (check_health)."""

from __future__ import annotations

from dataclasses import dataclass

from appliances.drivers import ApplianceError, HealthReport
from appliances.models import FailoverRole

from .engine import Context


@dataclass(frozen=True)
class RoleReading:
    appliance_id: int
    name: str
    role: str | None  # None: could not be read
    health: HealthReport | None = None  # the full answer when read through check_health
    error: str = ""

    @property
    def reachable(self) -> bool:
        return self.role is not None

    def describe(self) -> str:
        return f"{self.name} is {self.role}" if self.role else f"{self.name} could not be contacted ({self.error})"


def read_role(context: Context, appliance) -> RoleReading:
    try:
        health = context.client(appliance).check_health()
    except ApplianceError as exc:
        return RoleReading(appliance.pk, appliance.name, None, None, str(exc))
    return RoleReading(appliance.pk, appliance.name, str(health.failover_role), health)


def read_roles(context: Context) -> tuple[RoleReading, RoleReading]:
    """(normal primary's reading, normal backup's reading)."""
    return read_role(context, context.pair.primary), read_role(context, context.pair.backup)


def describe(readings) -> str:
    return "; ".join(reading.describe() for reading in readings)


def roles_are(context: Context, *, primary, backup) -> str | None:
    """A detail when ``primary`` is primary and ``backup`` is backup now, else None."""
    first, second = read_role(context, primary), read_role(context, backup)
    if first.role == FailoverRole.PRIMARY and second.role == FailoverRole.BACKUP:
        return describe((first, second))
    return None
