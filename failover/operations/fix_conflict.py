"""Fix this error: both members primary, or both backup. Decide the rightful primary the way the appliance
does (the member with the shared IP enabled, then the member the site's DNS name resolves to, then the
normal primary), apply the role change, then sync so that the configuration follows the primary."""

from __future__ import annotations

import ipaddress
import socket

import dns.exception
import dns.resolver
from django.conf import settings

from appliances.backups import backup_download
from appliances.drivers import ApplianceRefused
from appliances.models import AddressKind
from portal.permissions import SYSTEM

from ..models import NetworkMethod, OperationKind
from .engine import Context, OperationCancelled, Skipped, Step, StepFailed
from .registry import planner
from .roles import describe, read_role, read_roles, roles_are
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


def decide(context: Context):
    if context.state.get("no_conflict"):
        return Skipped("No conflict.")
    pair = context.pair
    members = (pair.primary, pair.backup)
    reasons: list[str] = []
    winner = None
    shared = context.state.get("shared_ips", {})
    enabled = [m for m in members if shared.get(str(m.pk))]
    if len(enabled) == 1:
        winner = enabled[0]
        reasons.append(f"{winner.name} has the shared IP enabled ({', '.join(shared[str(winner.pk)])}); "
                       f"{pair.peer_of(winner).name} does not.")
    else:
        reasons.append("Shared IP: " + ("enabled on both members." if enabled else "enabled on neither member."))
        addresses, resolver = _dns_addresses(context)
        matching = [m for m in members if _appliance_addresses(m) & addresses]
        if len(matching) == 1:
            winner = matching[0]
            reasons.append(f"{pair.site_hostname} resolves to {', '.join(sorted(addresses))} (asked {resolver}), "
                           f"an address of {winner.name}.")
        else:
            reasons.append(f"DNS: {pair.site_hostname} resolves to {', '.join(sorted(addresses)) or 'nothing'} "
                           f"(asked {resolver}), which does not single out one member.")
            winner = pair.primary
            reasons.append(f"{winner.name} is the normal primary.")
    loser = pair.peer_of(winner)
    context.remember(winner=winner.pk, loser=loser.pk, reasoning=reasons)
    return f"{winner.name} should be primary and {loser.name} backup. " + " ".join(reasons)


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
    context.bump_epoch()
    try:
        if context.state["conflict"] == "primary":
            answer = context.client(loser).set_failover_role("backup")
            return f"{loser.name}: {answer.message}"
        answer = context.client(winner).set_failover_role("primary")
        return f"{winner.name}: {answer.message}"
    except ApplianceRefused as exc:
        raise OperationCancelled(f"The appliance refused the role change: {exc.detail}") from exc


def apply_roles_recheck(context: Context) -> str | None:
    winner, loser = context.appliance(context.state["winner"]), context.appliance(context.state["loser"])
    return roles_are(context, primary=winner, backup=loser)


def wait_settled(context: Context):
    if context.state.get("no_conflict"):
        return Skipped("No conflict.")
    winner, loser = context.appliance(context.state["winner"]), context.appliance(context.state["loser"])

    def settled():
        done = roles_are(context, primary=winner, backup=loser)
        if done is None:
            context.heartbeat(f"Waiting: {describe((read_role(context, winner), read_role(context, loser)))}")
        return done

    return context.poll(settled, timeout=SETTLE_TIMEOUT, what="the roles to settle")


def _unless_no_conflict(step):
    def run(context: Context):
        if context.state.get("no_conflict"):
            return Skipped("No conflict.")
        return step.run(context)

    return run


@planner(OperationKind.FIX_CONFLICT)
def plan(context: Context) -> list[Step]:
    follow_up = [
        Step(s.name, s.description, _unless_no_conflict(s), recheck=s.recheck, verify=s.verify) for s in sync_steps()
    ]
    return [
        Step("read_roles", "Read both members' roles", read_conflict),
        Step("decide", "Decide the rightful primary", decide),
        Step("safety_backup", "Keep a configuration backup of the member that becomes backup", safety_backup),
        Step("apply_roles", "Apply the role change", apply_roles, recheck=apply_roles_recheck),
        Step("wait_roles", "Wait for one primary and one backup", wait_settled),
        *follow_up,
    ]
