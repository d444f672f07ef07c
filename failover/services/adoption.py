"""Adopting pairs that already exist: two appliances that are primary and backup of one site, established outside
the portal (where every customer starts). The portal reads both (roles, peer listing, shared IPs, versions), changes
nothing on them, and records the pair as established. Roles read now become the normal roles unless the caller
names the normal primary (a pair found running on its backup).

Everything is read before anything is written, so a refusal leaves no trace; a CSV adopts all its rows or none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appliances.connect import ClientPurpose, contact_failure_text, read_concurrently
from appliances.csv_io import CsvImportResult, read_csv_rows
from appliances.drivers import ApplianceError, ApplianceRefused, FailoverRole, HealthReport
from appliances.models import AddressKind, Appliance
from appliances.services import address_create, appliance_record_capabilities, appliance_update
from portal.models import AuditAction, Role
from portal.permissions import require_role
from portal.services.audit import audit_record
from portal.services.common import model_create
from portal.services.csv_jobs import csv_job_queue, csv_job_run

from ..models import BackupSettings, NetworkMethod, Pair, PairAdoptionImport
from ..probing.engine import reported_software
from ..selectors import appliance_pairs
from .advice import advice_refresh
from .pairs import backup_settings_as_read, check_members

#: Appliances read at once when adopting many pairs (each read is bounded by the appliance's probe timeout).
READ_CONCURRENCY = 16
#: Network-method details a caller may give when the appliances report no shared IP.
NETWORK_FIELDS = ("network_method", "dns_server", "dns_zone", "nat_public_address", "nat_device")
CSV_COLUMNS = ["first", "second", "site_hostname", "normal_primary", *NETWORK_FIELDS]
CSV_REQUIRED = {"first", "second"}
RUN_ADOPTION_TASK = "failover.run_pair_adoption"


@dataclass(frozen=True)
class MemberReading:
    """What adoption reads from one appliance; ``peers`` is None when it does not list its peer (PRA has no
    ``get_appliances``)."""

    health: HealthReport | None = None
    peers: frozenset[str] | None = None
    backup_settings: object | None = None  # the driver's BackupSettings when the appliance offers the extension
    capabilities: object | None = None  # the driver's Capabilities
    error: str = ""


def _read_one(client) -> MemberReading:
    try:
        health = client.check_health()
    except ApplianceError as exc:
        return MemberReading(error=contact_failure_text(exc))
    peers = settings = None
    try:
        peers = frozenset(entry.appliance_id.lower() for entry in client.get_appliances().appliances)
    except ApplianceRefused:
        pass  # not offered (PRA): the roles and the site name remain the evidence
    except ApplianceError as exc:
        return MemberReading(health=health, error=f"could not list its failover peer: {exc}")
    capabilities = None
    try:
        capabilities = client.get_capabilities()
        if capabilities.supports("x_get_backup_settings"):
            settings = client.get_backup_settings()
    except ApplianceError:
        settings = None  # the settings stay unknown; adoption does not need them
    return MemberReading(health=health, peers=peers, backup_settings=settings, capabilities=capabilities)


def read_appliances(appliances) -> dict[int, MemberReading]:
    """Read every appliance once, concurrently, each call bounded by its probe timeout (a person or a CSV job
    waits)."""
    readings, refused = read_concurrently(appliances, _read_one, purpose=ClientPurpose.INTERACTIVE,
                                          concurrency=READ_CONCURRENCY, name="adopt-read")
    return {**{pk: MemberReading(error=error) for pk, error in refused.items()}, **readings}


@dataclass
class AdoptionPlan:
    """What adopting two appliances would record, or why it cannot (``errors``, in words an admin understands)."""

    first: Appliance
    second: Appliance
    primary: Appliance | None = None  # normal primary
    backup: Appliance | None = None
    site_hostname: str = ""
    fields: dict = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _roles_error(first: Appliance, second: Appliance, readings: dict[int, MemberReading]) -> str:
    roles = {appliance.pk: readings[appliance.pk].health.failover_role for appliance in (first, second)}
    names = f"{first.name} and {second.name}"
    values = sorted(roles.values())
    if values == [FailoverRole.NONE, FailoverRole.NONE]:
        return (f"Neither {names} is in a failover relationship (both report role none): there is no pair to adopt. "
                "Establish the relationship instead.")
    if values == [FailoverRole.PRIMARY, FailoverRole.PRIMARY]:
        return (f"Both {names} report being primary (a conflict): fix it on the appliances (one must become "
                "backup) before adopting them.")
    if values == [FailoverRole.BACKUP, FailoverRole.BACKUP]:
        return (f"Both {names} report being backup: a role swap may be under way. Try again in a minute; if it "
                "lasts, make one of them primary first.")
    lone = next(a for a in (first, second) if roles[a.pk] == FailoverRole.NONE)
    return f"{lone.name} is not in a failover relationship (role none), so {names} are not a pair."


def _site_hostname(plan: AdoptionPlan, given: str) -> str:
    if given:
        return given.strip().lower()
    recorded = {a.site_hostname.strip().lower() for a in (plan.first, plan.second) if a.site_hostname.strip()}
    if len(recorded) == 1:
        return recorded.pop()
    if not recorded:
        plan.errors.append("Give the site name the pair serves (e.g. access.example.com): the vendor API does not "
                           "report it and neither appliance records one.")
    else:
        plan.errors.append(f"The appliances record different site names ({', '.join(sorted(recorded))}): give the "
                           "pair's site name.")
    return ""


def _network_fields(plan: AdoptionPlan, shared_ips: list[str], network: dict) -> dict:
    given = {k: v for k, v in (network or {}).items() if k in NETWORK_FIELDS and v not in (None, "")}
    method = given.pop("network_method", "") or (NetworkMethod.SHARED_IP if shared_ips else "")
    if not method:
        plan.errors.append(f"{plan.primary.name} reports no shared IP: give the pair's network method (DNS swing "
                           "or NAT swing) and its details.")
        return {}
    if method not in NetworkMethod.values:
        plan.errors.append(f"“{method}” is not a network method; use one of {', '.join(NetworkMethod.values)}.")
        return {}
    fields = {"network_method": method, **given}
    if method == NetworkMethod.SHARED_IP:
        if not shared_ips:
            plan.errors.append(f"{plan.primary.name} reports no enabled shared IP, so the shared IP method cannot "
                               "be read from it: give DNS or NAT swing details instead.")
            return {}
        fields["shared_ip"] = shared_ips[0]
    return fields


def pair_adoption_plan(*, first: Appliance, second: Appliance, readings: dict[int, MemberReading] | None = None,
                       site_hostname: str = "", normal_primary: Appliance | None = None,
                       network: dict | None = None) -> AdoptionPlan:
    """Check two appliances for adoption. Reads them (unless ``readings`` are given) and changes nothing."""
    plan = AdoptionPlan(first=first, second=second)
    if first.pk == second.pk:
        plan.errors.append("Choose two different appliances.")
        return plan
    if first.organization_id != second.organization_id:
        plan.errors.append(f"{first.name} and {second.name} belong to two organisations; a pair lives in one.")
        return plan
    for appliance in (first, second):
        other = appliance_pairs(appliance=appliance).first()
        if other is not None:
            plan.errors.append(f"{appliance.name} is already recorded in the pair {other.site_hostname}.")
    if plan.errors:
        return plan
    readings = readings if readings is not None else read_appliances([first, second])
    for appliance in (first, second):
        if readings[appliance.pk].error:
            plan.errors.append(f"The portal cannot read {appliance.name}: {readings[appliance.pk].error}")
    if plan.errors:
        return plan
    healths = {a.pk: readings[a.pk].health for a in (first, second)}
    current_primary = next((a for a in (first, second) if healths[a.pk].failover_role == FailoverRole.PRIMARY), None)
    current_backup = next((a for a in (first, second) if healths[a.pk].failover_role == FailoverRole.BACKUP), None)
    if current_primary is None or current_backup is None:
        plan.errors.append(_roles_error(first, second, readings))
        return plan
    plan.evidence.append(f"{current_primary.name} reports primary and {current_backup.name} reports backup.")
    for appliance, peer in ((current_primary, current_backup), (current_backup, current_primary)):
        listed = readings[appliance.pk].peers
        peer_guid = healths[peer.pk].appliance_id.lower()
        if listed is None:
            continue
        if peer_guid not in listed:
            plan.errors.append(f"{appliance.name} lists its failover peer and {peer.name} is not it: these two are "
                               "not partners of one pair.")
            return plan
        plan.evidence.append(f"{appliance.name} lists {peer.name} as its failover peer.")
    if normal_primary is not None and normal_primary.pk not in (first.pk, second.pk):
        plan.errors.append("The normal primary must be one of the two appliances.")
        return plan
    plan.primary = normal_primary or current_primary
    plan.backup = current_backup if plan.primary.pk == current_primary.pk else current_primary
    if plan.primary.pk != current_primary.pk:
        plan.evidence.append(f"Recorded as running on its normal backup: {plan.primary.name} is the normal primary.")
    mine, theirs = healths[current_primary.pk], healths[current_backup.pk]
    if (mine.version, mine.build) == (theirs.version, theirs.build):
        plan.evidence.append(f"Both run {mine.version} (build {mine.build}).")
    else:
        plan.evidence.append(f"Versions differ: {current_primary.name} runs {mine.version} ({mine.build}), "
                             f"{current_backup.name} runs {theirs.version} ({theirs.build}).")
    shared_ips = list(mine.enabled_shared_ips)
    if shared_ips:
        plan.evidence.append(f"{current_primary.name} has the shared IP(s) {', '.join(shared_ips)} enabled.")
    plan.site_hostname = _site_hostname(plan, site_hostname)
    if plan.site_hostname and Pair.objects.filter(organization_id=first.organization_id,
                                                  site_hostname=plan.site_hostname).exists():
        plan.errors.append(f"A pair for the site {plan.site_hostname} is already recorded in this organisation.")
    plan.fields = _network_fields(plan, shared_ips, network or {})
    return plan


def _record_readings(*, actor, appliance: Appliance, reading: MemberReading, site_hostname: str,
                     shared_ips: list[str], primary_now: bool) -> None:
    """What adoption read goes into the inventory: identity, version and build; the shared IPs as shared
    addresses (enabled where the appliance reports them); the backup settings only where they were read."""
    health = reading.health
    version, build = reported_software(health)  # untrusted: cut to the columns as the probes do
    data = {"product_version": version, "build": build}
    if not appliance.appliance_guid:
        data["appliance_guid"] = health.appliance_id.lower()
    if not appliance.site_hostname:
        data["site_hostname"] = site_hostname
    appliance_update(actor=actor, appliance=appliance, data=data)
    if reading.capabilities is not None:
        appliance_record_capabilities(appliance=appliance, capabilities=reading.capabilities)
    known = {str(a.address) for a in appliance.addresses.all()}
    for ip in shared_ips:
        if ip not in known:
            address_create(actor=actor, appliance=appliance, address=ip, prefix_length=32, kind=AddressKind.SHARED,
                           enabled=primary_now)
    current = reading.backup_settings
    if current is not None and not BackupSettings.objects.filter(appliance=appliance).exists():
        BackupSettings.objects.create(organization_id=appliance.organization_id, appliance=appliance,
                                      **backup_settings_as_read(current))


def _create(*, actor, plan: AdoptionPlan, readings: dict[int, MemberReading]) -> Pair:
    primary, backup = plan.primary, plan.backup
    check_members(primary.organization_id, {"primary": primary, "backup": backup})
    pair = model_create(actor=actor, model=Pair, data={
        "organization": primary.organization, "site_hostname": plan.site_hostname,
        "primary": primary, "backup": backup, **plan.fields,
        "backup_host": backup.management_host, "backup_port": backup.management_port,
        "reverse_host": primary.management_host, "reverse_port": primary.management_port,
        "established_at": timezone.now(),
    })
    shared_ips = list(readings[primary.pk].health.enabled_shared_ips or readings[backup.pk].health.enabled_shared_ips)
    for appliance in (primary, backup):
        reading = readings[appliance.pk]
        _record_readings(actor=actor, appliance=appliance, reading=reading, site_hostname=plan.site_hostname,
                         shared_ips=shared_ips, primary_now=reading.health.failover_role == FailoverRole.PRIMARY)
    audit_record(actor=actor, organization=pair.organization, action=AuditAction.ACTION, obj=pair, verb="adopt",
                 summary=f"Adopted the existing pair {pair.site_hostname}: {primary.name} (normal primary) and "
                         f"{backup.name}; nothing was changed on the appliances.",
                 changes={"evidence": plan.evidence})
    advice_refresh(pair_ids=[pair.pk])
    return pair


def pair_adopt(*, actor, first: Appliance, second: Appliance, site_hostname: str = "",
               normal_primary: Appliance | None = None, network: dict | None = None) -> Pair:
    """Record two appliances that already form a pair. Raises ``ValidationError`` with every reason otherwise."""
    require_role(actor, first.organization_id, Role.ADMIN)
    if second.organization_id != first.organization_id:
        require_role(actor, second.organization_id, Role.ADMIN)
    readings = read_appliances([first, second])
    plan = pair_adoption_plan(first=first, second=second, readings=readings, site_hostname=site_hostname,
                              normal_primary=normal_primary, network=network)
    if not plan.ok:
        raise ValidationError(plan.errors)
    with transaction.atomic():
        return _create(actor=actor, plan=plan, readings=readings)


# -- many at once, from a CSV file ----------------------------------------------------------------------------

def _named(appliances: dict[str, Appliance], number: int, column: str, name: str, errors: list[str]):
    appliance = appliances.get(name)
    if appliance is None and name:
        errors.append(f"Row {number}: {column}: no appliance named “{name}” in this organisation.")
    elif not name:
        errors.append(f"Row {number}: {column}: give an appliance name.")
    return appliance


def pairs_adopt_csv(*, actor, organization, data: bytes,
                    progress: Callable[[int], None] | None = None) -> CsvImportResult:
    """Adopt every row's pair or none: rows are checked first (appliances read concurrently), errors are reported
    per row, and the pairs are created in one transaction only when every row is good. ``progress(rows)`` is
    told how many rows are checked: once their names, once their appliances have been read."""
    require_role(actor, organization.pk, Role.ADMIN)
    result = CsvImportResult()
    try:
        rows = read_csv_rows(data, required=CSV_REQUIRED, columns=CSV_COLUMNS, noun="pair")
    except ValidationError as exc:
        result.errors.append(" ".join(exc.messages))
        return result
    appliances = {a.name: a for a in Appliance.objects.filter(organization=organization).prefetch_related("addresses")}
    parsed, seen = [], {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if None in row:
            result.errors.append(f"Row {number}: more values than columns.")
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        row_errors: list[str] = []
        first = _named(appliances, number, "first", values.get("first", ""), row_errors)
        second = _named(appliances, number, "second", values.get("second", ""), row_errors)
        normal = values.get("normal_primary", "")
        if normal and normal not in (values.get("first"), values.get("second")):
            row_errors.append(f"Row {number}: normal_primary must be the first or the second appliance.")
        for appliance in (first, second):
            if appliance is not None and appliance.name in seen:
                row_errors.append(f"Row {number}: {appliance.name} is also on row {seen[appliance.name]}.")
        result.errors.extend(row_errors)
        if row_errors:
            continue
        seen.update({first.name: number, second.name: number})
        parsed.append((number, first, second, values))
    if result.errors:
        return result
    readings = read_appliances([a for _, first, second, _ in parsed for a in (first, second)])
    if progress is not None:
        progress(len(parsed))
    plans, sites = [], {}
    for number, first, second, values in parsed:
        plan = pair_adoption_plan(first=first, second=second, readings=readings,
                                  site_hostname=values.get("site_hostname", ""),
                                  normal_primary=appliances.get(values.get("normal_primary", "")),
                                  network={k: values.get(k, "") for k in NETWORK_FIELDS})
        if plan.ok and plan.site_hostname in sites:
            plan.errors.append(f"the site {plan.site_hostname} is also on row {sites[plan.site_hostname]}.")
        result.errors.extend(f"Row {number}: {error}" for error in plan.errors)
        sites.setdefault(plan.site_hostname, number)
        plans.append((number, plan))
    if result.errors:
        return result

    try:
        with transaction.atomic():
            for number, plan in plans:
                try:
                    result.created.append(_create(actor=actor, plan=plan, readings=readings))
                except ValidationError as exc:
                    result.errors.extend(f"Row {number}: {message}" for message in exc.messages)
            if result.errors:
                raise ValidationError("rollback")  # all or nothing
    except ValidationError:
        result.created = []
    return result


def pairs_adopt_csv_request(*, actor, organization, data: bytes, filename: str = "") -> PairAdoptionImport:
    """Check the file's shape now (a clear message in the form), then queue the adoption for a worker: reading
    both members of hundreds of pairs takes longer than a request may."""
    require_role(actor, organization.pk, Role.ADMIN)
    rows = read_csv_rows(data, required=CSV_REQUIRED, columns=CSV_COLUMNS, noun="pair")
    return csv_job_queue(model=PairAdoptionImport, actor=actor, organization=organization, data=data,
                         rows=len(rows), filename=filename, task=RUN_ADOPTION_TASK, verb="csv adoption", noun="pair")


def pairs_adopt_csv_run(*, job: PairAdoptionImport) -> PairAdoptionImport:
    """The worker's part (``portal.services.csv_jobs``: claimed once, all rows or none)."""
    return csv_job_run(job=job, importer=pairs_adopt_csv, verb="csv adoption", noun="pair")
