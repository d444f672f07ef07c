"""Best-practice advisor: each pair checked against the vendor's best-practice table and network-method rules.

Pure rules over facts the caller loaded (no queries here, so checking a batch of pairs costs the same few
queries for 10 or 10,000 pairs): each rule returns a finding with what is wrong, why it matters and how to fix it.
The findings are stored and kept up to date by ``failover.services.advice``; the pages read the stored rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from appliances.models import AddressKind

from .models import FindingSeverity, NetworkMethod

# The severities are the stored findings' column choices (failover.models.advice).
Severity = FindingSeverity


DAY = 86400

#: The appliance columns the rules read (besides addresses and backup settings): a probe that changes one of them
#: re-checks the advice of the appliance's pair (failover.probing.engine).
APPLIANCE_FACT_FIELDS = ("product_version", "build", "status_version", "status_shared_ips")


def appliance_facts(appliance) -> tuple:
    return tuple(getattr(appliance, name) for name in APPLIANCE_FACT_FIELDS)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    title: str
    why: str
    fix: str
    pair: object = field(compare=False)

    @property
    def pair_id(self) -> int:
        return self.pair.pk


@dataclass(frozen=True)
class PairFacts:
    """What the rules need beyond the pair row and its members."""

    primary_settings: object | None
    backup_settings: object | None
    slowest_recent_sync_seconds: float | None = None
    certificate_match: bool | None = None
    certificate_reason: str = ""
    #: Members whose backup settings were never read nor declared (their settings above are then None).
    unknown_settings: tuple[str, ...] = ()


Rule = Callable[[object, PairFacts], "Finding | None"]
RULES: dict[str, tuple[str, Rule]] = {}


def rule(code: str, title: str):
    def register(function: Rule) -> Rule:
        RULES[code] = (title, function)
        return function

    return register


def _finding(code, severity, pair, why, fix) -> Finding:
    return Finding(code=code, severity=severity, title=RULES[code][0], why=why, fix=fix, pair=pair)


@rule("primary_backup_operations", "Backup operations are on for the normal primary")
def _primary_backup_operations(pair, facts):
    if facts.primary_settings is not None and facts.primary_settings.enable_backup_operations:
        return _finding(
            "primary_backup_operations", Severity.WARNING, pair,
            "Backup settings only apply while an appliance is backup, which for the normal primary means during "
            "maintenance. With backup operations on, it probes, emails and may start a data sync while you work on "
            "it, which can lose data.",
            f"Turn off “Enable backup operations” in the backup settings of {pair.primary}.",
        )
    return None


@rule("backup_operations_off", "Backup operations are off for the normal backup")
def _backup_operations_off(pair, facts):
    if facts.backup_settings is not None and not facts.backup_settings.enable_backup_operations:
        return _finding(
            "backup_operations_off", Severity.DANGER, pair,
            "The normal backup neither syncs automatically nor fails over while backup operations are off: a "
            "failure of the primary loses everything since the last manual sync.",
            f"Turn on “Enable backup operations” in the backup settings of {pair.backup}.",
        )
    return None


@rule("primary_automatic_failover", "Automatic failover is on for the normal primary")
def _primary_automatic_failover(pair, facts):
    if facts.primary_settings is not None and facts.primary_settings.automatic_failover:
        return _finding(
            "primary_automatic_failover", Severity.WARNING, pair,
            "While the normal primary is backup (maintenance), automatic failover could make it take the primary "
            "role back without a data sync first, losing what changed meanwhile.",
            f"Turn off “Enable automatic failover” in the backup settings of {pair.primary}.",
        )
    return None


@rule("sync_interval_too_long", "Data syncs run less often than daily")
def _sync_interval(pair, facts):
    settings = facts.backup_settings
    if settings is None or not settings.enable_backup_operations:
        return None
    if settings.sync_interval == 0 or settings.sync_interval > DAY:
        every = "never" if settings.sync_interval == 0 else f"every {settings.sync_interval / 3600:.0f} hours"
        return _finding(
            "sync_interval_too_long", Severity.WARNING, pair,
            f"The backup syncs {every}. Everything changed on the primary since the last sync is lost if the "
            "primary fails; syncs should run at least daily, the more often the better.",
            f"Set the automatic data-sync interval of {pair.backup} to 24 hours or less.",
        )
    return None


@rule("sync_slower_than_interval", "Data syncs take longer than their interval")
def _sync_too_slow(pair, facts):
    settings = facts.backup_settings
    slowest = facts.slowest_recent_sync_seconds
    if settings is None or not settings.sync_interval or slowest is None or slowest <= settings.sync_interval:
        return None
    return _finding(
        "sync_slower_than_interval", Severity.WARNING, pair,
        f"A recent sync took {slowest / 60:.0f} minutes but the backup starts one every "
        f"{settings.sync_interval / 60:.0f} minutes: syncs overlap the next one and the backup falls behind.",
        f"Raise the bandwidth limit or the sync interval of {pair.backup} (the backup's limit is the one used).",
    )


def _subnets(appliance) -> set:
    return {a.network for a in appliance.addresses.all() if a.kind == AddressKind.UNIQUE}


def _same_subnet(pair) -> bool | None:
    mine, theirs = _subnets(pair.primary), _subnets(pair.backup)
    if not mine or not theirs:
        return None
    return bool(mine & theirs)


@rule("automatic_failover_across_subnets", "Built-in automatic failover without a shared IP on one subnet")
def _auto_failover_subnets(pair, facts):
    settings = facts.backup_settings
    if settings is None or not settings.automatic_failover:
        return None
    if pair.network_method != "shared_ip":
        return _finding(
            "automatic_failover_across_subnets", Severity.WARNING, pair,
            "The appliance's built-in automatic failover only moves a shared IP; with DNS or NAT swing the backup "
            "becomes primary but clients keep reaching the old address until the network is swung.",
            "Turn off the built-in automatic failover and let the portal (or your tooling) swing DNS/NAT with the "
            "role change, or use the shared IP method.",
        )
    if _same_subnet(pair) is False:
        return _finding(
            "automatic_failover_across_subnets", Severity.DANGER, pair,
            "The two appliances are on different subnets, so the shared IP cannot move between them: an automatic "
            "failover would leave the site unreachable.",
            "Put both appliances on the shared IP's subnet, or switch to DNS or NAT swing and turn off the built-in "
            "automatic failover.",
        )
    return None


def _shared_enabled(appliance) -> bool:
    return bool(appliance.status_shared_ips) or any(
        a.kind == AddressKind.SHARED and a.enabled for a in appliance.addresses.all()
    )


@rule("shared_ip_on_both", "The shared IP is enabled on both appliances")
def _shared_on_both(pair, facts):
    if pair.network_method == NetworkMethod.SHARED_IP and _shared_enabled(pair.primary) and _shared_enabled(pair.backup):
        return _finding(
            "shared_ip_on_both", Severity.DANGER, pair,
            "Only the primary may have the shared IP enabled; enabled on both, the two appliances fight over the "
            "address and clients reach either one.",
            "Disable the shared IP on the appliance that should be backup, or use “Fix this error” on the pair.",
        )
    return None


def _software(appliance) -> str:
    return f"{appliance.product_version} ({appliance.build})" if appliance.product_version else appliance.status_version


@rule("software_mismatch", "The two appliances run different software")
def _software_mismatch(pair, facts):
    mine, theirs = _software(pair.primary), _software(pair.backup)
    if mine and theirs and mine != theirs:
        return _finding(
            "software_mismatch", Severity.DANGER, pair,
            f"{pair.primary} runs {mine} and {pair.backup} runs {theirs}. Failover needs the same version and build "
            "on both: syncs and role changes fail otherwise.",
            "Update the older appliance to the same version and build.",
        )
    return None


@rule("certificate_mismatch", "The two appliances serve different certificates")
def _certificate_mismatch(pair, facts):
    if facts.certificate_match is False:
        return _finding(
            "certificate_mismatch", Severity.WARNING, pair,
            "After a failover clients would meet a different certificate: " + (facts.certificate_reason or
                                                                             "the certificates differ."),
            "Import the primary's certificate on the backup (Certificates > replicate to backup).",
        )
    return None


@rule("builtin_and_api_failover", "Built-in and API-driven automatic failover are both on")
def _both_failovers(pair, facts):
    settings = facts.backup_settings
    if settings is not None and settings.automatic_failover and pair.portal_auto_failover:
        return _finding(
            "builtin_and_api_failover", Severity.WARNING, pair,
            "The appliance's own automatic failover and the portal's API-driven failover may both act on the same "
            "outage and conflict.",
            "Keep one: turn off the backup's “Enable automatic failover” or the pair's portal automatic failover.",
        )
    return None


@rule("settings_unknown", "Backup settings unknown")
def _settings_unknown(pair, facts):
    if facts.unknown_settings:
        names = " and ".join(facts.unknown_settings)
        return _finding(
            "settings_unknown", Severity.INFO, pair,
            f"The backup settings of {names} were never read from the appliance nor declared, so the advice that "
            "depends on them (backup operations, sync interval, automatic failover) cannot be given; the portal "
            "does not assume the defaults.",
            f"Declare the backup settings of {names} as they are set on the appliance (Management > Failover > "
            "Backup Settings), or read them from an appliance with the extension.",
        )
    return None


def check_pair(pair, facts: PairFacts) -> list[Finding]:
    return [finding for _, function in RULES.values() if (finding := function(pair, facts)) is not None]

