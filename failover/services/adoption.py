"""Adopting pairs that already exist: two appliances that are primary and backup of one site, established outside
the portal (where every customer starts). The portal reads both (roles, peer listing, shared IPs, versions), changes
nothing on them, and records the pair as established. Roles read now become the normal roles unless the caller
names the normal primary (a pair found running on its backup).

Everything is read before anything is written, so a refusal leaves no trace; a CSV adopts all its rows or none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appliances.connect import ClientPurpose, contact_failure_text, read_many
from appliances.csv_io import CsvImportResult, read_csv_rows
from appliances.drivers import ApplianceError, ApplianceRefused, FailoverRole, HealthReport
from appliances.drivers.client import annotate
from appliances.drivers.operations import Operation, Operations
from appliances.models import AddressKind, Appliance
from appliances.services import (
    addresses_build,
    addresses_bulk_insert,
    appliances_bulk_update,
    appliances_record_capabilities,
)
from portal.models import AuditAction, AuditEvent, Role
from portal.permissions import require_role
from portal.queue import enqueue_on_commit
from portal.services.audit import audit_event
from portal.services.common import BULK_BATCH_SIZE, models_build, models_bulk_insert
from portal.services.csv_jobs import csv_job_queue, csv_job_run

from ..adoption_selectors import RecordedPairs, recorded_pairs
from ..models import BackupSettings, NetworkMethod, Pair, PairAdoptionImport
from ..probing.engine import reported_software
from .advice import REFRESH_ADVICE_TASK, advice_refresh
from .pairs import backup_settings_as_read, members_errors

#: Transfers in flight when adopting many pairs, on one multi handle (each call is bounded by the appliance's probe
#: timeout). The simulator answers ~1,500 fresh TLS connections a second on one core; 64 in flight keep it busy.
READ_CONCURRENCY = 64
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


def _read_one(calls: Operations) -> Operation[MemberReading]:
    """What adoption reads from one appliance, as one driver operation (token, check_health, get_appliances, the
    capability check and, where offered, the backup settings), so thousands run on one multi handle."""

    def failed(error: ApplianceError, action: str) -> ApplianceError:
        return annotate(error, calls.address, action)  # the message names the appliance and the call

    try:
        health = yield from calls.check_health()
    except ApplianceError as exc:
        return MemberReading(error=contact_failure_text(failed(exc, "check_health")))
    peers = settings = None
    try:
        listing = yield from calls.get_appliances()
        peers = frozenset(entry.appliance_id.lower() for entry in listing.appliances)
    except ApplianceRefused:
        pass  # not offered (PRA): the roles and the site name remain the evidence
    except ApplianceError as exc:
        return MemberReading(health=health, error=f"could not list its failover peer: {failed(exc, 'get_appliances')}")
    capabilities = None
    try:
        capabilities = yield from calls.get_capabilities()
        if capabilities.supports("x_get_backup_settings"):
            settings = yield from calls.get_backup_settings()
    except ApplianceError:
        settings = None  # the settings stay unknown; adoption does not need them
    return MemberReading(health=health, peers=peers, backup_settings=settings, capabilities=capabilities)


def read_appliances(appliances) -> dict[int, MemberReading]:
    """Read every appliance once, ``READ_CONCURRENCY`` at a time, each call bounded by its probe timeout (a person
    or a CSV job waits)."""
    readings, refused = read_many(appliances, _read_one, purpose=ClientPurpose.INTERACTIVE,
                                  concurrency=READ_CONCURRENCY)
    return {**{pk: MemberReading(error=error) for pk, error in refused.items()},
            **{pk: reading if isinstance(reading, MemberReading) else MemberReading(error=contact_failure_text(reading))
               for pk, reading in readings.items()}}


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


def _site_recorded(site_hostname: str) -> str:
    return f"A pair for the site {site_hostname} is already recorded in this organisation."


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
                       network: dict | None = None, recorded: RecordedPairs | None = None) -> AdoptionPlan:
    """Check two appliances for adoption. Reads them (unless ``readings`` are given) and changes nothing.
    ``recorded``: the pairs already recorded (``recorded_pairs``, read once for many plans), else looked up."""
    plan = AdoptionPlan(first=first, second=second)
    if first.pk == second.pk:
        plan.errors.append("Choose two different appliances.")
        return plan
    if first.organization_id != second.organization_id:
        plan.errors.append(f"{first.name} and {second.name} belong to two organisations; a pair lives in one.")
        return plan
    if recorded is None:
        recorded = recorded_pairs(organization_id=first.organization_id, appliance_ids=[first.pk, second.pk])
    for appliance in (first, second):
        if appliance.pk in recorded.member_sites:
            plan.errors.append(f"{appliance.name} is already recorded in the pair "
                               f"{recorded.member_sites[appliance.pk]}.")
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
    if plan.site_hostname and plan.site_hostname in recorded.sites:
        plan.errors.append(_site_recorded(plan.site_hostname))
    plan.fields = _network_fields(plan, shared_ips, network or {})
    return plan


def _inventory_data(appliance: Appliance, reading: MemberReading, site_hostname: str) -> dict:
    """What adoption read goes into the appliance's record: identity, version and build (untrusted: cut to the
    columns as the probes do); the site name where none is recorded."""
    version, build = reported_software(reading.health)
    data = {"product_version": version, "build": build}
    if not appliance.appliance_guid:
        data["appliance_guid"] = reading.health.appliance_id.lower()
    if not appliance.site_hostname:
        data["site_hostname"] = site_hostname
    return data


def _guid_errors(organization, changes: list[tuple[Appliance, dict]]) -> dict[int, str]:
    """The appliance-id uniqueness rule (``appliance_unique_guid_per_org``) for every change at once: one query,
    and a change that would collide with another change of the same file."""
    given = {index: data["appliance_guid"] for index, (_, data) in enumerate(changes) if data.get("appliance_guid")}
    changing = [changes[index][0].pk for index in given]
    taken = set(Appliance.objects.filter(organization=organization, appliance_guid__in=set(given.values()))
                .exclude(pk__in=changing).values_list("appliance_guid", flat=True))
    seen: dict[str, int] = {}
    errors = {}
    for index, guid in given.items():
        if guid in taken or seen.setdefault(guid, index) != index:
            errors[index] = "Another appliance in this organisation has this appliance id."
    return errors


def _write(*, actor, organization, plans: list[AdoptionPlan], readings: dict[int, MemberReading],
           advice_now: bool) -> list[Pair]:
    """Record every plan's pair, in the caller's transaction, with the same number of statements for one pair as
    for thousands (each kind of row validated one by one, then written and audited in bulk). Everything is checked
    before the first write; a refusal raises ``ValidationError`` whose ``message_dict`` maps each refused plan's
    index to its messages, and writes nothing. The pairs' findings are stored now (``advice_now``: a person is
    shown the pair next) or by a worker once this commits (a file's thousands of pairs, as for a fleet load: seconds
    per thousand pairs the job would otherwise hold its transaction for; the advice sweep would catch them anyway).
    """
    errors: dict[int, list[str]] = defaultdict(list)
    members = members_errors(organization.pk, [{"primary": plan.primary, "backup": plan.backup} for plan in plans])
    for index, fields in members.items():
        errors[index].extend(fields.values())
    now = timezone.now()
    pairs, pair_errors = models_build(model=Pair, rows=[{
        "organization": organization, "site_hostname": plan.site_hostname,
        "primary": plan.primary, "backup": plan.backup, **plan.fields,
        "backup_host": plan.backup.management_host, "backup_port": plan.backup.management_port,
        "reverse_host": plan.primary.management_host, "reverse_port": plan.primary.management_port,
        "established_at": now,
    } for plan in plans])
    changes, capabilities, address_rows, settings_rows = [], [], [], []
    change_plan, address_plan = [], []  # the plan index of each change and address row
    have_settings = set(BackupSettings.objects.filter(appliance__in=[a for p in plans for a in (p.primary, p.backup)])
                        .values_list("appliance_id", flat=True))
    for index, plan in enumerate(plans):
        primary, backup = readings[plan.primary.pk].health, readings[plan.backup.pk].health
        # The shared IPs as shared addresses on both members, enabled where the appliance reports them.
        shared_ips = list(dict.fromkeys(primary.enabled_shared_ips or backup.enabled_shared_ips))
        for appliance in (plan.primary, plan.backup):
            reading = readings[appliance.pk]
            changes.append((appliance, _inventory_data(appliance, reading, plan.site_hostname)))
            change_plan.append(index)
            if reading.capabilities is not None:
                capabilities.append((appliance, reading.capabilities))
            known = {str(address.address) for address in appliance.addresses.all()}
            for ip in shared_ips:
                if ip not in known:
                    address_rows.append({"appliance": appliance, "address": ip, "prefix_length": 32,
                                         "kind": AddressKind.SHARED,
                                         "enabled": reading.health.failover_role == FailoverRole.PRIMARY})
                    address_plan.append(index)
            # The backup settings only where they were read: never a default shown as a reading.
            if reading.backup_settings is not None and appliance.pk not in have_settings:
                settings_rows.append({"organization": organization, "appliance": appliance,
                                      **backup_settings_as_read(reading.backup_settings)})
    for index, messages in pair_errors.items():
        errors[index].extend(messages)
    # The site names again, inside the transaction (the plans read them before the appliances were read): one query.
    taken = set(Pair.objects.filter(organization=organization, site_hostname__in=[p.site_hostname for p in plans])
                .values_list("site_hostname", flat=True))
    for index, plan in enumerate(plans):
        if plan.site_hostname in taken:
            errors[index].append(_site_recorded(plan.site_hostname))
    for index, message in _guid_errors(organization, changes).items():
        errors[change_plan[index]].append(message)
    addresses, address_errors = addresses_build(address_rows)
    for index, messages in address_errors.items():
        errors[address_plan[index]].extend(messages)
    if not errors:
        try:
            appliances_bulk_update(actor=actor, changes=changes)  # validates all before writing any
        except ValidationError as exc:
            for index, messages in exc.message_dict.items():
                errors[change_plan[index]].extend(messages)
    if errors:
        raise ValidationError({index: list(dict.fromkeys(messages)) for index, messages in errors.items()})
    appliances_record_capabilities(readings=capabilities)
    addresses_bulk_insert(actor=actor, addresses=addresses)
    BackupSettings.objects.bulk_create([BackupSettings(**row) for row in settings_rows])
    models_bulk_insert(actor=actor, instances=pairs)
    AuditEvent.objects.bulk_create([audit_event(
        actor=actor, organization=organization, action=AuditAction.ACTION, obj=pair, verb="adopt",
        summary=f"Adopted the existing pair {pair.site_hostname}: {plan.primary.name} (normal primary) and "
                f"{plan.backup.name}; nothing was changed on the appliances.",
        changes={"evidence": plan.evidence}) for pair, plan in zip(pairs, plans, strict=True)],
        batch_size=BULK_BATCH_SIZE)
    if advice_now:
        advice_refresh(pair_ids=[pair.pk for pair in pairs])
    else:
        enqueue_on_commit(REFRESH_ADVICE_TASK, [pair.pk for pair in pairs])
    return pairs


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
        try:
            return _write(actor=actor, organization=first.organization, plans=[plan], readings=readings,
                          advice_now=True)[0]
        except ValidationError as exc:
            raise ValidationError(exc.message_dict[0]) from None


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
    for appliance in appliances.values():
        appliance.organization = organization  # loaded once: the clients' address policy and the audit rows read it
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
    recorded = recorded_pairs(organization_id=organization.pk,
                              appliance_ids=[a.pk for _, first, second, _ in parsed for a in (first, second)])
    for number, first, second, values in parsed:
        plan = pair_adoption_plan(first=first, second=second, readings=readings,
                                  site_hostname=values.get("site_hostname", ""),
                                  normal_primary=appliances.get(values.get("normal_primary", "")),
                                  network={k: values.get(k, "") for k in NETWORK_FIELDS}, recorded=recorded)
        if plan.ok and plan.site_hostname in sites:
            plan.errors.append(f"the site {plan.site_hostname} is also on row {sites[plan.site_hostname]}.")
        result.errors.extend(f"Row {number}: {error}" for error in plan.errors)
        sites.setdefault(plan.site_hostname, number)
        plans.append((number, plan))
    if result.errors:
        return result

    try:
        with transaction.atomic():
            result.created = _write(actor=actor, organization=organization, plans=[plan for _, plan in plans],
                                    readings=readings, advice_now=False)
    except ValidationError as exc:  # nothing was written: all or nothing
        result.created = []
        for index, messages in sorted(exc.message_dict.items()):
            result.errors.extend(f"Row {plans[index][0]}: {message}" for message in messages)
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
