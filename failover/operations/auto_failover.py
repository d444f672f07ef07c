"""Automatic failover, started by the portal's policy (``services/autofailover.py``) when the serving primary
stayed unreachable past the standby's primary timeout.

The one rule every step serves: never two primaries. The old primary is fenced first: told to become backup
when it answers at all, and when it does not answer, the failover proceeds only once nothing answers where the
old primary would serve (the shared IP, or for DNS/NAT swing its own site address) on the site's port nor the
management port: a refusal counts as an answer, since a host had to be there to send it (``swing/knock.py``).
An old primary cut off from the portal could still be serving. Then the standby is promoted, the traffic is
swung by the pair's network method, the result is verified, and a failover alert goes out.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from appliances.drivers import ApplianceError, ApplianceRefused
from appliances.models import FailoverRole
from portal.models import AlertSeverity
from portal.services.alerts import alert_raise

from ..alerts import AlertKind
from ..models import NetworkMethod, OperationKind, Pair, PairState
from ..pair_state import builtin_failover_on, serving_and_standby
from ..swing import SwingError, site_address
from ..swing.knock import ACCEPTED, REFUSED, knock_results, service_targets
from .engine import Context, OperationCancelled, Step, StepFailed
from .registry import planner
from .roles import describe, read_role
from .swing_step import swing_step
from .traffic import serving_verified

SETTLE_TIMEOUT = 300.0


#: How the old primary was fenced (``context.state["fenced"]``), told to a person.
_FENCED = {
    "demoted": lambda old: f"{old.name} answered and was made backup.",
    "already backup": lambda old: f"{old.name} was already backup.",
    "unreachable": lambda old: f"{old.name} did not answer and nothing answers where it served; make sure it comes "
                               "back as backup.",
}


def _old(context: Context):
    return context.appliance(context.state["old_primary"])


def _new(context: Context):
    return context.appliance(context.state["new_primary"])


def confirm_outage(context: Context) -> str:
    pair = Pair.objects.select_related("primary", "backup").get(pk=context.pair.pk)
    if pair.state != PairState.PRIMARY_UNREACHABLE:
        raise OperationCancelled(f"The pair is no longer “primary unreachable” ({pair.get_state_display()}: "
                                 f"{pair.state_reason}); no failover needed.")
    if "old_primary" not in context.state:
        old, new = serving_and_standby(pair.primary, pair.backup)
        context.remember(old_primary=old.pk, new_primary=new.pk)
    old, new = _old(context), _new(context)
    standby = read_role(context, new)
    if not standby.reachable:
        raise StepFailed(f"{new.name} (the standby) cannot be contacted either: {standby.error}. Nothing was changed.")
    if standby.role not in ("backup", "primary"):
        raise StepFailed(f"{new.name} is not in a failover relationship (role {standby.role}).")
    # The portal's copy of the backup settings may be old: ask the appliance itself where it can tell.
    readable = context.supports(new, "x_get_backup_settings")
    if readable and builtin_failover_on(context.client(new).get_backup_settings()):
        raise OperationCancelled(
            f"{new.name} reports its own (built-in) automatic failover on: it may promote itself at the same time, "
            "so the portal does not act. Turn one of the two automatic failovers off.")
    since = pair.primary_unreachable_since
    basis = "" if readable else (f" {new.name} offers the vendor API only, which cannot report its own automatic "
                                 "failover: relying on its declared backup settings (off).")
    return f"{old.name} is down per the probes since {since:%Y-%m-%d %H:%M:%S} UTC; {describe((standby,))}.{basis}"


def fence_old_primary(context: Context) -> str:
    old, pair = _old(context), context.pair
    context.bump_epoch(primary=_new(context))
    reading = read_role(context, old)
    if reading.reachable:
        if reading.role == FailoverRole.BACKUP:
            context.remember(fenced="already backup")
            return f"{old.name} answers and is already backup."
        try:
            context.client(old).set_failover_role("backup", force=True)
        except ApplianceRefused as exc:
            raise OperationCancelled(f"{old.name} answers but refused to become backup: {exc.detail} Nothing else "
                                     "was changed, so the pair keeps one primary.") from exc
        context.poll(lambda: read_role(context, old).role == FailoverRole.BACKUP or None, timeout=SETTLE_TIMEOUT,
                     what=f"{old.name} to become backup")
        context.remember(fenced="demoted")
        return f"{old.name} answered ({reading.role}) and was made backup."
    try:
        if pair.network_method == NetworkMethod.SHARED_IP:
            if not pair.shared_ip:
                raise SwingError("the pair has no shared IP set")
            where, address = "the shared IP", str(pair.shared_ip)
        else:
            where, address = f"{old.name}'s site address", site_address(old)
    except SwingError as exc:
        raise OperationCancelled(f"{old.name} does not answer and the portal cannot tell whether it still serves "
                                 f"({exc}). Nothing was changed.") from exc
    targets = service_targets(address, old.management_port)
    ports = "/".join(str(port) for _address, port in targets)
    results = context.without_database(lambda: knock_results(targets))
    accepted = [port for (_address, port), outcome in results.items() if outcome == ACCEPTED]
    refused = [port for (_address, port), outcome in results.items() if outcome == REFUSED]
    if accepted:
        raise OperationCancelled(
            f"{old.name} does not answer on {old.management_host}, but something still accepts connections on "
            f"{where} {address} (port {'/'.join(map(str, accepted))}): the old primary may still be serving, and "
            f"promoting {_new(context).name} would put two primaries on the network. Nothing was changed; check "
            "the old primary by hand.")
    if refused and not refusal_means_not_serving():
        raise OperationCancelled(
            f"{old.name} does not answer on {old.management_host}, and something refuses connections on {where} "
            f"{address} (ports {ports}); FAILOVER_REFUSAL_MEANS_NOT_SERVING is off, so a refusal counts as a host "
            "that may still serve. Nothing was changed; check the old primary by hand.")
    context.remember(fenced="unreachable")
    heard = (f"something refuses connections on {where} {address} (ports {ports}): a host may hold the address, "
             "but nothing serves the site on it" if refused else f"nothing answers on {where} {address} (ports {ports})")
    return (f"{old.name} does not answer ({reading.error}) and {heard}; "
            f"the {pair.get_network_method_display()} moves the site's traffic away from it. When it is back it may "
            "still believe it is primary: it is then made backup.")


def refusal_means_not_serving() -> bool:
    """A refusal on the site's port and the management port comes from a host that serves nothing there (an
    appliance just made backup, or one that no longer holds the shared IP): not "someone still serving". On a
    network where a firewall REJECTs the portal (rather than dropping), a refusal says nothing about the host
    behind it: turn this off there, and only silence lets an automatic failover proceed."""
    return settings.FAILOVER_REFUSAL_MEANS_NOT_SERVING


def fence_recheck(context: Context) -> str | None:
    reading = read_role(context, _old(context))
    return f"{_old(context).name} is backup." if reading.role == FailoverRole.BACKUP else None


def promote(context: Context) -> str:
    new = _new(context)
    if read_role(context, new).role == FailoverRole.PRIMARY:
        return f"{new.name} is already primary."
    try:
        answer = context.client(new).set_failover_role("primary")
    except (ApplianceRefused, ApplianceError) as exc:
        fenced = _FENCED[context.state.get("fenced", "already backup")](_old(context))
        raise StepFailed(f"{new.name} did not become primary: {exc}. {fenced} Nobody may serve the site now: "
                         "make a member primary from the pair page.") from exc
    context.poll(lambda: read_role(context, new).role == FailoverRole.PRIMARY or None, timeout=SETTLE_TIMEOUT,
                 what=f"{new.name} to become primary")
    return f"{new.name}: {answer.message}"


def promote_recheck(context: Context) -> str | None:
    return f"{_new(context).name} is primary." if read_role(context, _new(context)).role == FailoverRole.PRIMARY else None


def verify(context: Context) -> str:
    new = _new(context)
    detail = context.poll(lambda: serving_verified(context, new, _old(context)), timeout=SETTLE_TIMEOUT,
                          what="the failover to be verified")
    return f"{detail}."


def notify(context: Context) -> str:
    pair, old, new = context.pair, _old(context), _new(context)
    fenced = _FENCED[context.state.get("fenced", "already backup")](old)
    body = (f"Pair {pair.site_hostname} ({pair.organization}).\n\n"
            f"The portal failed over automatically: {new.name} is primary now and the site's traffic was moved to it "
            f"by {pair.get_network_method_display()}.\n{fenced}\n\nReason: {context.operation.reason}\n"
            "Data written on the old primary since the last data sync is not on the new primary.\n")
    alert = alert_raise(
        organization=pair.organization, kind=AlertKind.FAILOVER, severity=AlertSeverity.CRITICAL,
        dedup_key=f"failover:{pair.pk}:{context.operation.pk}", scope=pair, target=new, body=body,
        subject=f"{pair.site_hostname}: automatic failover to {new.name} done", throttle=timedelta(days=365),
    )
    return "Failover alert recorded." if alert else "Failover alert was already recorded."


@planner(OperationKind.AUTO_FAILOVER)
def plan(context: Context) -> list[Step]:
    return [
        Step("confirm_outage", "Confirm the primary is still down and the standby answers", confirm_outage),
        Step("fence_old_primary", "Fence the old primary (make it backup, or prove it is silent)", fence_old_primary,
             recheck=fence_recheck),
        Step("promote", "Make the standby primary", promote, recheck=promote_recheck),
        swing_step(),
        Step("verify", "Verify one primary and where the traffic goes", verify),
        Step("notify", "Send the failover alert", notify),
    ]
