""""Test connection": what the portal can do with an appliance and its API account, read from the appliance.

``get_api_info`` gives the API version, the account's permissions and the appliance's clock; ``check_health``
the version, build and role; the capability check which extension actions exist. An appliance without API
credentials is tried through the plain ``/check_health`` page only, and the report says what that allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from portal.models import AuditAction, Role
from portal.permissions import require_role
from portal.services.audit import audit_record

from .connect import ClientPurpose, appliance_client, probing_client, read_concurrently
from .drivers import ApplianceError
from .models import Appliance
from .services import appliance_record_capabilities

#: Beyond this the appliance's clock is called out: sync times and token lifetimes read from it drift apart.
CLOCK_SKEW_WARNING_SECONDS = 60


@dataclass
class ConnectionReport:
    reachable: bool = False
    authenticated: bool | None = None  # None: no API credentials to try
    api_version: str = ""
    command_access: str = ""  # full_access | read_only | deny
    can_backup: bool | None = None
    probe_account_access: str = ""  # the read-only probing account's command access ("" when none is recorded)
    clock_skew_seconds: float | None = None
    version: str = ""
    build: str = ""
    role: str = ""
    extension_actions: list[str] | None = None
    plain_health: str = ""
    can: list[str] = field(default_factory=list)
    cannot: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checked_at: datetime | None = None


def _abilities(report: ConnectionReport) -> None:
    if report.authenticated is None:
        if report.probe_account_access in ("full_access", "read_only"):
            report.can.append("probe it with its read-only account (role, health, shared IPs, sync times, version "
                              "and build)")
            report.cannot.append("change roles or download backups: add an API account with full command access")
        else:
            report.can.append("probe it through the plain /check_health page (up or down only)")
            report.cannot.append("read its role, shared IPs or sync times, change roles or download backups: add an "
                                 "API account")
        return
    probing = report.probe_account_access or report.command_access
    if probing in ("full_access", "read_only"):
        account = "its read-only account" if report.probe_account_access else "its API account"
        report.can.append(f"probe it with {account} (role, health, shared IPs, sync times, version and build)")
    if report.command_access == "full_access":
        report.can.append("change its role (become primary / backup, automatic failover)")
    else:
        report.cannot.append("change its role: the account needs full command access")
    if report.can_backup:
        report.can.append("download its configuration backups")
    else:
        report.cannot.append("download configuration backups: the account lacks the backup permission")
    if report.extension_actions:
        report.can.append(f"use the extension actions ({', '.join(report.extension_actions)})")
    elif report.extension_actions == []:
        report.cannot.append("start syncs, read or write backup settings or establish relationships by itself: "
                             "the appliance offers the vendor API only, so those are guided steps")


def connection_test(*, appliance: Appliance) -> ConnectionReport:
    """Read what the appliance says about itself and the account; changes nothing on the appliance."""
    report = ConnectionReport(checked_at=timezone.now())
    if not appliance.client_id or not appliance.client_secret:
        client = probing_client(appliance, purpose=ClientPurpose.CONNECTION_TEST)
        try:
            plain = client.plain_check_health()
        except ApplianceError as exc:
            report.problems.append(f"The appliance cannot be reached: {exc}")
        else:
            report.reachable = True
            report.plain_health = f"HTTP {plain.status_code}: {plain.message or ('pass' if plain.passed else 'fail')}"
        if report.reachable and appliance.probe_client_id and appliance.probe_client_secret:
            _check_probe_account(appliance, report)  # the probe loop uses it: say whether it works
        _abilities(report)
        return report
    client = appliance_client(appliance, purpose=ClientPurpose.CONNECTION_TEST)
    try:
        info = client.get_api_info()
    except ApplianceError as exc:
        report.problems.append(f"get_api_info failed: {exc}")
        report.authenticated = False
        return report
    report.reachable = report.authenticated = True
    report.api_version = info.api_version
    report.command_access, report.can_backup = info.command_access, info.can_backup
    if appliance.probe_client_id and appliance.probe_client_secret:
        _check_probe_account(appliance, report)
    if info.timestamp is not None:
        report.clock_skew_seconds = (info.timestamp - timezone.now()).total_seconds()
        if abs(report.clock_skew_seconds) > CLOCK_SKEW_WARNING_SECONDS:
            report.problems.append(f"The appliance's clock is {report.clock_skew_seconds:+.0f} s off the portal's: "
                                   "check its NTP settings.")
    try:
        health = client.check_health()
        report.version, report.build, report.role = health.version, health.build, str(health.failover_role)
    except ApplianceError as exc:
        report.problems.append(f"check_health failed: {exc}")
    try:
        capabilities = client.get_capabilities()
    except ApplianceError as exc:
        report.problems.append(f"Could not tell which actions it offers: {exc}")
    else:
        appliance_record_capabilities(appliance=appliance, capabilities=capabilities)
        report.extension_actions = list(appliance.extension_actions)
    _abilities(report)
    return report


def _check_probe_account(appliance: Appliance, report: ConnectionReport) -> None:
    client = probing_client(appliance, purpose=ClientPurpose.CONNECTION_TEST)  # the probing account is recorded
    try:
        report.probe_account_access = client.get_api_info().command_access
    except ApplianceError as exc:
        report.problems.append(f"The read-only probing account does not work: {exc}")
        return
    if report.probe_account_access == "full_access":
        report.problems.append("The probing account has full command access: a read-only account is enough for "
                               "probing (least privilege).")
    elif report.probe_account_access == "deny":
        report.problems.append("The probing account may not use the command API: give it read-only access.")


def appliance_test_connection(*, actor, appliance: Appliance) -> ConnectionReport:
    require_role(actor, appliance.organization_id, Role.OPERATOR)
    report = connection_test(appliance=appliance)
    if appliance.pk is None:
        return report  # values typed into the add form: nothing of the portal's is involved yet
    audit_record(actor=actor, organization=appliance.organization, action=AuditAction.ACTION, obj=appliance,
                 verb="test connection",
                 summary=("reachable" if report.reachable else "unreachable")
                 + (f", API {report.api_version}, command access {report.command_access}" if report.api_version else "")
                 + (f"; {len(report.problems)} problem(s)" if report.problems else ""))
    return report


#: A capability profile older than this is read again (an appliance may be upgraded, or its extension removed).
CAPABILITIES_MAX_AGE = timedelta(days=1)
#: Appliances read per run, and at once.
CAPABILITIES_BATCH, CAPABILITIES_CONCURRENCY = 200, 8


def _capabilities_of(client):
    try:
        return client.get_capabilities()
    except ApplianceError:
        return None  # unreachable or refused: the profile stays as last read (or unknown)


def capabilities_refresh(*, now=None) -> int:
    """Read the capability profile of appliances never read or read too long ago (beat, hourly), so every
    appliance page can say what its appliance offers before any operation ran. Returns how many were recorded."""
    now = now or timezone.now()
    stale = (Appliance.objects.filter(Q(capabilities_read_at__isnull=True)
                                      | Q(capabilities_read_at__lt=now - CAPABILITIES_MAX_AGE))
             .exclude(client_id="").order_by("capabilities_read_at", "pk")[:CAPABILITIES_BATCH])
    appliances = {appliance.pk: appliance for appliance in stale}
    read, _no_account = read_concurrently(appliances.values(), _capabilities_of, purpose=ClientPurpose.CONNECTION_TEST,
                                          concurrency=CAPABILITIES_CONCURRENCY, name="capabilities")
    recorded = 0
    for pk, capabilities in read.items():
        if capabilities is not None:
            appliance_record_capabilities(appliance=appliances[pk], capabilities=capabilities)
            recorded += 1
    return recorded
