"""Fix this error: both members primary, or both backup. Decide the rightful primary by the documented criteria
(``survivor.py``: who holds the traffic, whom the portal made primary last, newest data, normal roles), check it
is still what the operator confirmed on the preview, keep a configuration backup of the member that becomes
backup, apply the role change (forced where the operator chose it), then sync so the configuration follows the
primary."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import dns.exception
import dns.resolver
from django.conf import settings

from appliances.backups import backup_download
from appliances.connect import ClientPurpose, appliance_client
from appliances.drivers import ApplianceRefused
from appliances.models import AddressKind
from portal.permissions import SYSTEM

from ..models import NetworkMethod, OperationKind
from ..pair_state import builtin_failover_on, settings_of
from .engine import Context, OperationCancelled, Skipped, Step, StepFailed
from .registry import planner
from .roles import describe, read_role, read_roles, roles_are
from .survivor import SurvivorDecision, decide_survivor, traffic_holder
from .swing_step import swing_step
from .sync import sync_steps

SETTLE_TIMEOUT = 300.0


def read_conflict(context: Context) -> str:
    primary, backup = read_roles(context)
    unreachable = [r for r in (primary, backup) if not r.reachable]
    if unreachable:
        raise StepFailed(
            f"Both members must answer to fix a conflict: {describe(unreachable)}. Restore the connection first."
        )
    roles = describe((primary, backup))
    if primary.role == backup.role and primary.role in ("primary", "backup"):
        context.remember(conflict=primary.role, shared_ips={
            str(primary.appliance_id): primary.health.enabled_shared_ips,
            str(backup.appliance_id): backup.health.enabled_shared_ips,
        })
        return f"Conflict: {roles}."
    context.remember(no_conflict=True)
    return f"No conflict to fix: {roles}."


def _resolver_address(pair) -> tuple[str, int] | None:
    """The pair's own DNS server for DNS swing; else ``FAILOVER_DNS_RESOLVER`` ("ip:port"); else the system's."""
    if pair.network_method == NetworkMethod.DNS_SWING and pair.dns_server:
        return pair.dns_server, pair.dns_port
    configured = settings.FAILOVER_DNS_RESOLVER
    if configured:
        host, _, port = configured.rpartition(":") if configured.count(":") == 1 else (configured, "", "53")
        return host, int(port or 53)
    return None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _dns_addresses(context: Context) -> tuple[set[str], str]:
    """Addresses the site name resolves to, and which resolver said so."""
    pair = context.pair
    address = _resolver_address(pair)
    if address is None:
        resolver = dns.resolver.Resolver()
        asked = ", ".join(resolver.nameservers)
    else:
        resolver = dns.resolver.Resolver(configure=False)
        asked = f"{address[0]}:{address[1]}"
        try:
            # dnspython wants an IP; a DNS server given by name is looked up once.
            server = address[0] if _is_ip(address[0]) else socket.getaddrinfo(address[0], None)[0][4][0]
            resolver.nameservers, resolver.port = [server], address[1]
        except (OSError, ValueError):
            return set(), f"{asked} (unusable)"
    resolver.lifetime = 3.0
    found: set[str] = set()
    for record_type in ("A", "AAAA"):
        try:
            found.update(rdata.address for rdata in resolver.resolve(pair.site_hostname, record_type))
        except (dns.exception.DNSException, OSError, ValueError):
            continue
    return found, asked


def _appliance_addresses(appliance) -> set[str]:
    addresses = {appliance.management_host}
    addresses.update(str(a.address) for a in appliance.addresses.all() if a.kind == AddressKind.UNIQUE)
    return addresses


def dns_reading(context_or_pair, members) -> tuple[object | None, str]:
    """The member the site name resolves to (None unless exactly one), and what was asked and found."""
    addresses, resolver = _dns_addresses(context_or_pair)
    matching = [m for m in members if _appliance_addresses(m) & addresses]
    found = ", ".join(sorted(addresses)) or "nothing"
    if len(matching) == 1:
        return matching[0], f"{context_or_pair.pair.site_hostname} resolves to {found} (asked {resolver}), an address " \
                            f"of {matching[0].name}."
    return None, f"{context_or_pair.pair.site_hostname} resolves to {found} (asked {resolver}), which does not " \
                 "single out one member."


def survivor(context_or_pair, *, conflict: str) -> SurvivorDecision:
    """The decision from live readings; ``context_or_pair`` is an operation Context or anything with ``.pair``."""
    pair = context_or_pair.pair
    holder, holder_detail = traffic_holder(pair)
    dns_member, dns_detail = (None, "")
    if holder is None:
        dns_member, dns_detail = dns_reading(context_or_pair, pair.members)
    return decide_survivor(pair, conflict=conflict, holder=holder, holder_detail=holder_detail,
                           dns_member=dns_member, dns_detail=dns_detail)


def decide(context: Context):
    if context.state.get("no_conflict"):
        return Skipped("No conflict.")
    decision = survivor(context, conflict=context.state["conflict"])
    confirmed = context.operation.params.get("winner")
    if confirmed and int(confirmed) != decision.winner.pk:
        # The operator confirmed a preview; acting on a different decision would be acting unconfirmed.
        raise OperationCancelled(
            f"The evidence changed since the preview: {decision.winner.name} should now be primary. "
            + " ".join(decision.reasoning()) + " Open Fix this error again to see the new preview.")
    context.remember(winner=decision.winner.pk, loser=decision.loser.pk, reasoning=decision.reasoning(),
                     decided_by=decision.decided_by)
    return (f"{decision.winner.name} should be primary and {decision.loser.name} backup "
            f"(decided by: {decision.decided_by.lower()}). " + " ".join(decision.reasoning()))


@dataclass
class FixPreview:
    """What Fix this error would do now, read live from both members, for the operator to confirm."""

    readings: list
    conflict: str | None = None  # "primary" / "backup"; None when there is none to fix (or it cannot be read)
    decision: SurvivorDecision | None = None
    problem: str = ""

    @property
    def offers_force(self) -> bool:
        # The vendor's force exists only for a primary becoming backup: the two-primaries case.
        return self.conflict == "primary"


class _Reader:
    """What the shared readers (``read_role``, the DNS reading) need from an operation Context, for a page: a
    person waits, so each call gets the appliance's probe timeout."""

    def __init__(self, pair):
        self.pair = pair

    def client(self, appliance):
        return appliance_client(appliance, purpose=ClientPurpose.INTERACTIVE)


def fix_conflict_preview(*, pair) -> FixPreview:
    reader = _Reader(pair)
    readings = [read_role(reader, pair.primary), read_role(reader, pair.backup)]
    unreachable = [r for r in readings if not r.reachable]
    if unreachable:
        return FixPreview(readings, problem=f"Both members must answer to fix a conflict: {describe(unreachable)}.")
    roles = {r.role for r in readings}
    if len(roles) != 1 or not roles <= {"primary", "backup"}:
        return FixPreview(readings, problem=f"No conflict to fix: {describe(readings)}.")
    conflict = roles.pop()
    return FixPreview(readings, conflict=conflict, decision=survivor(reader, conflict=conflict))


def safety_backup(context: Context):
    """The member that ends up backup has its /login configuration overwritten by the sync that follows; keep a
    configuration backup of it first (a failed download is reported, not fatal: the conflict still needs fixing)."""
    if context.state.get("no_conflict"):
        return Skipped("No conflict.")
    loser = context.appliance(context.state["loser"])
    backup = backup_download(actor=SYSTEM, appliance=loser)
    if backup.failure_kind:
        return f"Could not keep a configuration backup of {loser.name}: {backup.failure_reason}"
    context.remember(safety_backup_id=backup.pk)
    return f"Kept a configuration backup of {loser.name} ({backup.filename}, {backup.size_bytes} bytes)."


def apply_roles(context: Context):
    if context.state.get("no_conflict"):
        return Skipped("No conflict.")
    winner, loser = context.appliance(context.state["winner"]), context.appliance(context.state["loser"])
    context.bump_epoch(primary=winner)
    try:
        if context.state["conflict"] == "primary":
            force = bool(context.operation.params.get("force"))
            answer = context.client(loser).set_failover_role("backup", force=force)
            return f"{loser.name}: {answer.message}" + (" (forced)" if force else "")
        answer = context.client(winner).set_failover_role("primary")
        return f"{winner.name}: {answer.message}"
    except ApplianceRefused as exc:
        hint = (" The two cannot reach each other: confirm Fix this error again with force to make "
                f"{loser.name} backup anyway.") if context.state["conflict"] == "primary" and \
            "contact" in exc.detail.lower() else ""
        raise OperationCancelled(f"The appliance refused the role change: {exc.detail}{hint}") from exc


def apply_roles_recheck(context: Context) -> str | None:
    winner, loser = context.appliance(context.state["winner"]), context.appliance(context.state["loser"])
    return roles_are(context, primary=winner, backup=loser)


def _fought_back(context: Context) -> OperationCancelled | None:
    """The member made backup is primary again and its own automatic failover is on: it promoted itself because
    it cannot reach its peer. Named, so the operator knows what undid the fix (observation 12)."""
    if context.state.get("conflict") != "primary" or "loser" not in context.state:
        return None
    winner, loser = context.appliance(context.state["winner"]), context.appliance(context.state["loser"])
    if read_role(context, loser).role != "primary" or not builtin_failover_on(settings_of(loser)):
        return None
    return OperationCancelled(
        f"{loser.name} was made backup but is primary again: its own (built-in) automatic failover promoted it "
        f"because it cannot reach {winner.name}. Turn automatic failover off on {loser.name} (its backup settings) "
        "or restore the link, then fix the error again.")


def wait_settled(context: Context):
    if context.state.get("no_conflict"):
        return Skipped("No conflict.")
    winner, loser = context.appliance(context.state["winner"]), context.appliance(context.state["loser"])

    def settled():
        done = roles_are(context, primary=winner, backup=loser)
        if done is None:
            fought = _fought_back(context)
            if fought is not None:
                raise fought
            context.heartbeat(f"Waiting: {describe((read_role(context, winner), read_role(context, loser)))}")
        return done

    return context.poll(settled, timeout=SETTLE_TIMEOUT, what="the roles to settle")


def _after_the_fix(step):
    """A step after the role change: skipped when there was no conflict; when it fails because the member made
    backup took the primary role back, the failure names its built-in automatic failover."""
    def run(context: Context):
        if context.state.get("no_conflict"):
            return Skipped("No conflict.")
        try:
            return step.run(context)
        except StepFailed:
            fought = _fought_back(context)
            if fought is not None:
                raise fought from None
            raise

    return run


@planner(OperationKind.FIX_CONFLICT)
def plan(context: Context) -> list[Step]:
    follow_up = [
        Step(s.name, s.description, _after_the_fix(s), recheck=s.recheck, verify=s.verify)
        for s in (swing_step(), *sync_steps())
    ]
    return [
        Step("read_roles", "Read both members' roles", read_conflict),
        Step("decide", "Decide the rightful primary", decide),
        Step("safety_backup", "Keep a configuration backup of the member that becomes backup", safety_backup),
        Step("apply_roles", "Apply the role change", apply_roles, recheck=apply_roles_recheck),
        Step("wait_roles", "Wait for one primary and one backup", wait_settled),
        *follow_up,
    ]
