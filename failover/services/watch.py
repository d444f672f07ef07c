"""Watching pairs for conditions that deserve an email: a primary down (countdown, then recovery) and a data
sync gone stale. Runs from beat (``failover.watch_pairs``); every email goes through ``alert_raise``, which
records, deduplicates and throttles it, so running the watch often is harmless.

Dedup keys name one condition on one pair for one episode:
``countdown:<pair>:<outage start>[:late]``, ``recovered:<pair>:<outage start>``, ``sync_stale:<pair>:<last sync>``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import DateTimeField, ExpressionWrapper, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from portal.db import Seconds
from portal.models import Alert, AlertSeverity
from portal.services.alerts import alert_raise

from ..alerts import AlertKind
from ..models import Pair, PairState
from ..pair_state import Countdown, FailoverActor, serving_and_standby, settings_of
from .state_alerts import state_alerts_watch

# Repeats (settings.ALERT_*): once the countdown has run out (or with automatic failover off, once the timeout
# has passed), an outage that goes on is repeated at the slower "late" rate instead of every minute.
#: How far back the recovery scan looks for an outage's countdown alerts.
RECOVERY_LOOKBACK = timedelta(days=7)


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=getattr(settings, name))


def duration(value: timedelta) -> str:
    """'2 h 05 min', '4 min 10 s', '12 s': email subjects are read on phones."""
    seconds = int(max(value.total_seconds(), 0))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


def _pairs():
    return Pair.objects.select_related(
        "organization", "primary", "backup", "primary__backup_settings", "backup__backup_settings"
    )


def _acting(actor: FailoverActor, standby) -> str:
    """Who promotes the standby, as the countdown emails name it (``actor`` is one of ``ACTING``)."""
    if actor == FailoverActor.PORTAL:
        return "the portal's automatic failover"
    return f"{standby.name}'s built-in automatic failover"


def countdown_alert(*, pair: Pair, now: datetime) -> Alert | None:
    since = pair.primary_unreachable_since or now
    down, standby = serving_and_standby(pair.primary, pair.backup)
    countdown = Countdown.of(since=since, now=now, backup_settings=settings_of(standby),
                             portal_auto_failover=pair.portal_auto_failover)
    down_for = f"{pair.site_hostname}: primary {down.name} down for {duration(countdown.down_for)}"
    actor = countdown.actor
    both = (" The portal's automatic failover is on too and stands aside (both could act on one outage)."
            if actor == FailoverActor.BOTH else "")
    if actor == FailoverActor.UNKNOWN:
        # Never a promise or a denial built on defaults: the backup's own automatic failover is unknown, and the
        # portal's does not act on settings it never read.
        portal = (" The portal's automatic failover is on for the pair but does not act on unknown settings."
                  if pair.portal_auto_failover else "")
        outlook = (f"The backup settings of {standby.name} are unknown (never read from it nor declared): the portal "
                   f"cannot tell whether or when it promotes itself.{portal} Check it, or make it primary from the "
                   "pair page.")
        subject = f"{down_for}, automatic failover unknown"
    elif actor == FailoverActor.NEITHER:
        outlook = (f"Automatic failover is off on {standby.name} and for the pair in the portal: nothing will happen "
                   "unless an operator makes it primary from the pair page.")
        subject = f"{down_for}, no automatic failover"
    elif countdown.failover_in > timedelta(0):
        outlook = (f"Automatic failover to {standby.name} by {_acting(actor, standby)} in "
                   f"{duration(countdown.failover_in)} (the backup's primary timeout is "
                   f"{duration(countdown.primary_timeout)}), provided {standby.name} still answers and reaches its "
                   f"connectivity test IPs.{both}")
        subject = f"{down_for}, automatic failover in {duration(countdown.failover_in)} ({_acting(actor, standby)})"
    elif actor == FailoverActor.PORTAL:
        outlook = (f"The backup's primary timeout ({duration(countdown.primary_timeout)}) has passed: the portal's "
                   f"automatic failover is due to promote {standby.name}. The pair page shows its decision (it "
                   "waits, for example, while the portal cannot reach the backup's connectivity test IPs).")
        subject = f"{down_for}, failover due ({_acting(actor, standby)})"
    else:
        outlook = (f"The backup's primary timeout ({duration(countdown.primary_timeout)}) has passed: {standby.name}'s "
                   "own (built-in) automatic failover should have promoted it. If it has not, check that it can "
                   f"reach its connectivity test IPs, or make it primary from the pair page.{both}")
        subject = f"{down_for}, failover due ({_acting(actor, standby)})"
    body = (f"Pair {pair.site_hostname} ({pair.organization}).\n\n"
            f"The primary {down.name} ({down.management_host}) has been unreachable from the portal since "
            f"{since:%Y-%m-%d %H:%M:%S} UTC ({duration(countdown.down_for)}).\n"
            f"Last error: {down.status_error or 'none recorded'}\n\n{outlook}\n")
    late = countdown.down_for > countdown.primary_timeout
    throttle = (_seconds("ALERT_COUNTDOWN_LATE_INTERVAL_SECONDS") if late
                else _seconds("ALERT_COUNTDOWN_INTERVAL_SECONDS"))
    return alert_raise(
        organization=pair.organization, kind=AlertKind.PRIMARY_DOWN_COUNTDOWN, severity=AlertSeverity.CRITICAL,
        # The overdue phase has its own key, so its first email is not held back by the countdown's throttle.
        dedup_key=f"countdown:{pair.pk}:{int(since.timestamp())}{':late' if late else ''}", subject=subject, body=body,
        scope=pair, target=down, throttle=throttle,
    )


def recovery_alert(*, pair: Pair, outage_key: str, outage_alerted_at: datetime, down_id: int | None,
                   now: datetime) -> Alert | None:
    """``outage_key``/``outage_alerted_at``/``down_id``: the dedup key, time and appliance of the outage's last
    countdown alert. Raised only when that appliance answers again: the pair leaving "primary unreachable"
    because the backup was promoted is no recovery of the old primary (it may still refuse connections)."""
    down = pair.primary if down_id == pair.primary_id else pair.backup
    if down.status_reachable is not True:
        return None
    outage = outage_key.split(":")[2]
    started = datetime.fromtimestamp(int(outage), tz=now.tzinfo) if outage.isdigit() else outage_alerted_at
    role = down.get_status_role_display().lower() if down.status_role else "no role"
    body = (f"Pair {pair.site_hostname} ({pair.organization}).\n\n"
            f"{down.name} answers the portal again, as {role}; it was unreachable for about "
            f"{duration(now - started)} (since {started:%Y-%m-%d %H:%M:%S} UTC, its first failed probe).\n"
            f"Pair state now: {pair.get_state_display()}. {pair.state_reason}\n")
    return alert_raise(
        organization=pair.organization, kind=AlertKind.PRIMARY_RECOVERED, severity=AlertSeverity.INFO,
        dedup_key=f"recovered:{pair.pk}:{outage}", subject=f"{pair.site_hostname}: {down.name} reachable again",
        body=body, scope=pair, target=down, throttle=timedelta(days=365),  # once per outage
        resolves=[f"countdown:{pair.pk}:{outage}"],  # its message is the outage's "resolved" message
    )


def sync_stale_alert(*, pair: Pair, now: datetime) -> Alert | None:
    reference = pair.last_sync_at or pair.established_at
    age = now - reference
    what = (f"The last data sync into the backup finished {duration(age)} ago ({pair.last_sync_at:%Y-%m-%d %H:%M} "
            "UTC)" if pair.last_sync_at else f"No data sync has completed since the relationship was established "
            f"{duration(age)} ago")
    body = (f"Pair {pair.site_hostname} ({pair.organization}).\n\n{what}; the pair's threshold is "
            f"{duration(timedelta(seconds=pair.sync_stale_after))}.\nIf the primary fails now, the backup would "
            "serve data that old. Check the backup's sync interval and the link between the two, or run "
            "'Sync now' from the pair page.\n")
    return alert_raise(
        organization=pair.organization, kind=AlertKind.SYNC_STALE, severity=AlertSeverity.WARNING,
        dedup_key=f"sync_stale:{pair.pk}:{int(reference.timestamp())}",
        subject=f"{pair.site_hostname}: data sync stale for {duration(age)}", body=body, scope=pair,
        throttle=_seconds("ALERT_SYNC_STALE_REPEAT_SECONDS"),
    )


def pairs_watch(*, now: datetime) -> int:
    """Raise what is due; returns how many alerts were recorded (throttled ones are not)."""
    raised = 0
    for pair in _pairs().filter(state=PairState.PRIMARY_UNREACHABLE):
        raised += countdown_alert(pair=pair, now=now) is not None

    # Only recent alerts matter (an outage whose recovery went unnoticed for longer is not news), which keeps
    # this scan, run every few seconds, off each pair's whole alert history.
    recent = Alert.objects.filter(pair=OuterRef("pk"), created_at__gte=now - RECOVERY_LOOKBACK)
    last_countdown = recent.filter(kind=AlertKind.PRIMARY_DOWN_COUNTDOWN).order_by("-created_at", "-id")
    recovered = (
        _pairs().exclude(state__in=[PairState.PRIMARY_UNREACHABLE, PairState.NEVER_CHECKED])
        .annotate(
            last_countdown_at=Subquery(last_countdown.values("created_at")[:1]),
            last_countdown_key=Subquery(last_countdown.values("dedup_key")[:1]),
            last_countdown_appliance=Subquery(last_countdown.values("target_id")[:1]),
            last_recovery_at=Subquery(recent.filter(kind=AlertKind.PRIMARY_RECOVERED).order_by("-created_at")
                                      .values("created_at")[:1]),
        )
        .filter(last_countdown_at__isnull=False)
        .filter(Q(last_recovery_at__isnull=True) | Q(last_recovery_at__lt=F("last_countdown_at")))
    )
    for pair in recovered:
        raised += recovery_alert(pair=pair, outage_key=pair.last_countdown_key, down_id=pair.last_countdown_appliance,
                                 outage_alerted_at=pair.last_countdown_at, now=now) is not None
    raised += state_alerts_watch(pairs=_pairs(), now=now)

    stale_before = ExpressionWrapper(Value(now) - Seconds("sync_stale_after"), output_field=DateTimeField())
    stale = (
        _pairs().filter(broken_at__isnull=True)
        .exclude(state__in=[PairState.NEVER_CHECKED, PairState.BROKEN, PairState.MAINTENANCE])
        .annotate(sync_reference=Coalesce("last_sync_at", "established_at"))
        .filter(sync_reference__lt=stale_before)
    )
    for pair in stale:
        raised += sync_stale_alert(pair=pair, now=now) is not None
    return raised
