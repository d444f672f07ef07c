"""A pair's derived state, from both members' latest (debounced) probe status: the pair state machine.

Pure: no queries, no clock. The probe engine calls it after every batch and stores the result on the pair;
tests call it with plain objects. Each member is anything with the ``Appliance.status_*`` attributes.
docs/pair-states.md documents each state, its evidence, its alert and what clears it.

Order of precedence (first match wins):
never checked → broken (by the portal) → two primaries → maintenance (declared, or an open maintenance window
covering the pair or a member) → broken outside the portal → no
primary → primary unreachable → backup unreachable → peer link lost → sync stale → degraded → running on
the normal backup → healthy. Two primaries come before maintenance: an IP conflict hurts whatever the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings

from appliances.models import FailoverRole

from .models import PairState
from .sync_history import sync_succeeded

PRIMARY, BACKUP, NONE = FailoverRole.PRIMARY, FailoverRole.BACKUP, FailoverRole.NONE

#: The appliance's default primary timeout (seconds), used while the portal has not read its backup settings.
DEFAULT_PRIMARY_TIMEOUT = 300


def settings_of(appliance):
    """The portal's copy of the appliance's backup settings, or None when it was never read."""
    try:
        return appliance.backup_settings
    except appliance._meta.model.backup_settings.RelatedObjectDoesNotExist:
        return None


def builtin_failover_on(backup_settings) -> bool:
    """Whether the appliance's own (built-in) automatic failover would act: it needs backup operations enabled
    as well as automatic failover. ``backup_settings`` is the model row or the driver's reading (or None)."""
    return bool(backup_settings and backup_settings.automatic_failover and backup_settings.enable_backup_operations)


class FailoverActor(StrEnum):
    """Whose automatic failover acts on a primary outage (the pair page, the outage panel, the countdown emails)."""

    APPLIANCE = "appliance"  # the standby's own (built-in) automatic failover
    PORTAL = "portal"  # the portal's (services/autofailover.py)
    BOTH = "both"  # both on: the portal stands aside (they could both act), the appliance's acts
    NEITHER = "neither"
    UNKNOWN = "unknown"  # the standby's backup settings were never read nor declared: nobody can tell


def failover_actor(*, portal_auto_failover: bool, standby_settings) -> FailoverActor:
    """The one rule for who would fail a pair over. Unknown settings make it unknown even with the portal's on:
    the portal does not act on settings it never read (``autofailover_decide``, UNKNOWN_SETTINGS), and the
    appliance's own may or may not be on."""
    if standby_settings is None or not getattr(standby_settings, "known", True):
        return FailoverActor.UNKNOWN
    builtin = builtin_failover_on(standby_settings)
    if builtin and portal_auto_failover:
        return FailoverActor.BOTH
    if builtin:
        return FailoverActor.APPLIANCE
    return FailoverActor.PORTAL if portal_auto_failover else FailoverActor.NEITHER


#: The actors that promote the standby once its primary timeout has run out.
ACTING = (FailoverActor.APPLIANCE, FailoverActor.PORTAL, FailoverActor.BOTH)


def primary_timeout(backup_settings) -> timedelta:
    return timedelta(seconds=backup_settings.primary_timeout if backup_settings else DEFAULT_PRIMARY_TIMEOUT)


def swap_window() -> timedelta:
    return timedelta(seconds=settings.PAIR_SWAP_WINDOW_SECONDS)


@dataclass(frozen=True)
class WindowCover:
    """The open maintenance window that covers a pair or one of its members (maintenance_selectors reads it)."""

    covers: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""


@dataclass(frozen=True)
class PairStatus:
    state: str
    reason: str
    primary_unreachable_since: datetime | None = None
    both_backup_since: datetime | None = None
    last_sync_at: datetime | None = None


@dataclass(frozen=True)
class Countdown:
    """How long the serving primary has been unreachable and when automatic failover would fire."""

    down_for: timedelta
    actor: FailoverActor
    primary_timeout: timedelta
    failover_in: timedelta | None  # None when no automatic failover would act (or nobody can tell)

    @property
    def failover_enabled(self) -> bool:
        return self.actor in ACTING

    @property
    def settings_known(self) -> bool:
        """False when the backup's settings were never read nor declared: its timeout and own failover are unknown."""
        return self.actor != FailoverActor.UNKNOWN

    @classmethod
    def of(cls, *, since: datetime, now: datetime, backup_settings, portal_auto_failover: bool = False) -> Countdown:
        down_for = max(now - since, timedelta(0))
        timeout = primary_timeout(backup_settings)
        actor = failover_actor(portal_auto_failover=portal_auto_failover, standby_settings=backup_settings)
        return cls(down_for=down_for, actor=actor, primary_timeout=timeout,
                   failover_in=max(timeout - down_for, timedelta(0)) if actor in ACTING else None)


def _never_checked(member) -> bool:
    return member.status_reachable is None


def _up(member) -> bool:
    return member.status_reachable is True


def serves_as_primary(member) -> bool:
    """Confirmed up (debounced) and answering as primary."""
    return _up(member) and member.status_role == PRIMARY


def answers_primary(member) -> bool:
    """Its latest probe got an answer, and the answer was "primary": confirmed up, or answering again and not
    believed up yet (the up-debounce), since the role a probe answers is an answer, not a guess
    (probing/transitions.py). What fencing a returning second primary needs at its first answer."""
    return member.status_role == PRIMARY and (_up(member) or (member.status_successes or 0) > 0)


def second_primary(primary, backup):
    """The member that answers as primary beside one confirmed serving as primary, or None. With both confirmed,
    the normal backup is named; who should stay primary is the fencing rule's question (services/fencing.py)."""
    for serving, other in ((primary, backup), (backup, primary)):
        if serves_as_primary(serving) and answers_primary(other):
            return other
    return None


def serving_and_standby(primary, backup) -> tuple:
    """(the member that serves or should serve, the other). The one that answers as primary serves; with no
    such answer, the one that last reported primary (an unreachable member keeps its last reported role), else
    the normal primary. So after a promotion the promoted backup serves even while the old primary, down,
    still last reported primary."""
    if serves_as_primary(backup) and not serves_as_primary(primary):
        return backup, primary
    if serves_as_primary(primary):
        return primary, backup
    if backup.status_role == PRIMARY and primary.status_role != PRIMARY:
        return backup, primary
    return primary, backup


def peer_trouble(member) -> str:
    """An appliance's own report that it cannot reach its peer, or a failed data sync ("" when neither)."""
    error = (member.status_error or "").lower()
    if "peer" in error and ("unreachable" in error or "cannot" in error or "contact" in error):
        return member.status_error
    status = member.status_last_sync_status
    if status and not sync_succeeded(status):
        return f"last data sync: {status}"
    return ""


def derive_pair_state(*, pair, primary, backup, now: datetime, window: WindowCover | None = None) -> PairStatus:
    """``primary``/``backup`` are the pair's *normal* members; their current roles come from their status.
    ``window``: the open maintenance window covering the pair or a member, if any (the pair is in maintenance
    until it ends or is closed; then the evidence decides again, so leaving it is no recovery by itself)."""
    syncs = [m.status_last_sync_at for m in (primary, backup) if m.status_last_sync_at]
    last_sync = max(syncs) if syncs else pair.last_sync_at

    def result(state, reason, *, down_since=None, both_backup_since=None):
        return PairStatus(state, reason[:300], down_since, both_backup_since, last_sync)

    if _never_checked(primary) or _never_checked(backup):
        missing = " and ".join(m.name for m in (primary, backup) if _never_checked(m))
        return result(PairState.NEVER_CHECKED, f"No probe result yet for {missing}.")

    if pair.broken_at:
        return result(PairState.BROKEN, "The failover relationship was broken from the portal.")

    both_up = _up(primary) and _up(backup)
    if both_up and primary.status_role == PRIMARY and backup.status_role == PRIMARY:
        return result(PairState.CONFLICT, "Both appliances report the primary role: with a shared IP, both "
                      "enable it (an IP conflict); clients reach either.")

    if getattr(pair, "maintenance_since", None):
        note = f": {pair.maintenance_note}" if getattr(pair, "maintenance_note", "") else ""
        return result(PairState.MAINTENANCE, f"In maintenance since {pair.maintenance_since:%Y-%m-%d %H:%M} "
                      f"UTC{note}.")
    if window is not None:
        note = f": {window.reason}" if window.reason else ""
        return result(PairState.MAINTENANCE, f"Maintenance window of {window.covers} since "
                      f"{window.starts_at:%Y-%m-%d %H:%M} until {window.ends_at:%Y-%m-%d %H:%M} UTC{note}.")

    alone = [m for m in (primary, backup) if _up(m) and m.status_role == NONE]
    if alone:
        return result(PairState.BROKEN_OUTSIDE, f"{alone[0].name} reports no failover relationship, but the "
                      "portal did not break it (someone broke it in /login, or the appliance was reset).")

    both_backup_since = None
    if both_up and primary.status_role == BACKUP and backup.status_role == BACKUP:
        both_backup_since = pair.both_backup_since or now
        if now - both_backup_since >= swap_window():
            seconds = int((now - both_backup_since).total_seconds())
            return result(PairState.CONFLICT_NO_PRIMARY, f"Both appliances report the backup role for {seconds} s: "
                          "nobody serves the site.", both_backup_since=both_backup_since)

    serving, standby = serving_and_standby(primary, backup)
    if not _up(serving):
        # The outage started at the first failed probe, not when the failures were confirmed.
        since = (getattr(serving, "status_failing_since", None) or pair.primary_unreachable_since or now)
        detail = serving.status_error or "no answer"
        also = " The backup is unreachable too." if not _up(standby) else ""
        return result(PairState.PRIMARY_UNREACHABLE, f"{serving.name} (primary) is unreachable: {detail}.{also}",
                      down_since=since)

    if not _up(standby):
        detail = standby.status_error or "no answer"
        return result(PairState.BACKUP_UNREACHABLE, f"{standby.name} (backup) is unreachable: {detail}. "
                      f"{serving.name} serves without a standby.", both_backup_since=both_backup_since)

    trouble = peer_trouble(standby) or peer_trouble(serving)
    if trouble and not both_backup_since:
        return result(PairState.PEER_LINK_LOST, f"Both appliances answer the portal but not each other ({trouble}). "
                      "Syncs fail and a built-in automatic failover may promote the backup: two primaries.")

    reference = last_sync or pair.established_at
    if reference is not None and now - reference > timedelta(seconds=pair.sync_stale_after):
        hours = (now - reference).total_seconds() / 3600
        what = "No data sync" if last_sync is None else "Last data sync"
        return result(PairState.SYNC_STALE, f"{what} {hours:.1f} h ago (threshold "
                      f"{pair.sync_stale_after / 3600:.1f} h).", both_backup_since=both_backup_since)

    problems = []
    if both_backup_since:
        problems.append("both appliances report the backup role (a role swap in progress?)")
    for member in (serving, standby):
        if member.status_healthy is False or member.status_error:
            problems.append(f"{member.name}: {member.status_error or 'reports unhealthy'}")
    if problems:
        # Not capitalised: most problems start with an appliance name.
        return result(PairState.DEGRADED, "; ".join(problems) + ".", both_backup_since=both_backup_since)
    if serving is not primary:
        return result(PairState.RUNNING_ON_BACKUP, f"{serving.name}, the normal backup, serves; {standby.name} "
                      "stands by. Swap back when the normal primary is ready (planned maintenance procedure).")
    return result(PairState.HEALTHY, f"{serving.name} serves, {standby.name} stands by.")

