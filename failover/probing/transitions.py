"""One probe result applied to one appliance's latest status, with anti-flap thresholds.

The status columns on the appliance hold the *confirmed* view: reachable flips to False only after
``failures_to_down`` consecutive failed probes and back to True only after ``successes_to_up`` consecutive
good ones (an appliance never checked takes its first result as is: there is nothing to flap against).
While up, what the appliance reports (role, health, sync status) is taken at once: those are answers, not
guesses; while it recovers, only the role it reports is taken (a second primary is fenced at its first
answer). A history row is due only when the confirmed view changes in a way a person cares about.

Any probe that does not yield a health document (refused, timeout, TLS, authentication, hostile or
garbage answer) is a failure: the portal cannot manage an appliance it cannot read.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from appliances.drivers import ProbeResult

# A reported sync time this far ahead of our clock is believed (clock skew); later ones are clamped to it, so
# an appliance claiming a sync in the future cannot hide a stale sync from the pair's staleness check forever.
SYNC_CLOCK_SKEW = timedelta(minutes=5)
MAX_SHARED_IPS = 64
# What a genuine appliance reports as its id (and what ``appliance_guid`` holds).
_GUID = re.compile(r"^[0-9a-fA-F]{32}$")

#: Columns the probe loop writes (bulk_update field list).
STATUS_FIELDS = [
    "status_checked_at",
    "status_reachable",
    "status_healthy",
    "status_latency_ms",
    "status_role",
    "status_version",
    "status_shared_ips",
    "status_last_sync_at",
    "status_last_sync_status",
    "status_error",
    "status_failures",
    "status_successes",
    "status_failing_since",
    "next_probe_at",
]


@dataclass(frozen=True)
class Thresholds:
    """Anti-flap: consecutive results needed to change the confirmed view (settings.PROBE_*, at least 1)."""

    failures_to_down: int = field(default_factory=lambda: max(1, settings.PROBE_FAILURES_TO_DOWN))
    successes_to_up: int = field(default_factory=lambda: max(1, settings.PROBE_SUCCESSES_TO_UP))

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls()


@dataclass(frozen=True)
class Transition:
    """What changed in the confirmed view; becomes a StatusChange row."""

    summary: str


def _confirmed(appliance) -> tuple:
    return (appliance.status_reachable, appliance.status_healthy, appliance.status_role,
            appliance.status_last_sync_status, appliance.status_error)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def next_probe_delay(appliance, *, confirming: bool) -> timedelta:
    """Time from one probe to the next: the appliance's own interval; while a change is unconfirmed (a failure
    on an appliance believed up, a success on one believed down), the re-check comes sooner, after
    ``PROBE_CONFIRM_INTERVAL`` but never later than the interval itself. So an outage is confirmed within
    failures x interval at worst, and in seconds on appliances probed every minute (docs/pair-states.md,
    "Detection bound"). The one rule: the probe engine, the bound in the docs and the tests read it here."""
    if confirming:
        return timedelta(seconds=min(appliance.probe_interval, settings.PROBE_CONFIRM_INTERVAL))
    return timedelta(seconds=appliance.probe_interval)


def _schedule_next(appliance, *, now: datetime, confirming: bool, scheduled_at: datetime | None) -> None:
    """The next probe is counted from when this one was *due* (``scheduled_at``: the claim, see
    dispatch.py), not from when its result was written: counting from the write added the dispatch delay and
    the probe's own time to every interval, and the dispatcher's tick then rounded it up to one more tick, so
    an interval of 5 s probed every 10 s. A probe that took longer than the delay is due again at once."""
    start = scheduled_at if scheduled_at is not None and scheduled_at <= now else now
    appliance.next_probe_at = max(start + next_probe_delay(appliance, confirming=confirming), now)


def reported_guid(health) -> str | None:
    """The appliance id the health document reports, lowercased, or None when it is not a well-formed id."""
    reported = health.appliance_id or ""
    return reported.lower() if _GUID.fullmatch(reported) else None


def _identity_error(appliance, health) -> str:
    """Why this answer must not be taken as our appliance's status ("" when it may)."""
    guid = reported_guid(health)
    if guid is None:
        return "The appliance reports an invalid id."
    if appliance.appliance_guid and guid != appliance.appliance_guid:
        # Somebody else answers at this address (replaced hardware, moved IP): never manage it as ours.
        return f"The appliance at this address reports id {guid}, not {appliance.appliance_guid}."
    return ""


def _shared_ips(reported) -> list[str]:
    ips = []
    for text in list(reported or [])[: MAX_SHARED_IPS * 4]:
        try:
            ips.append(str(ipaddress.ip_address(str(text).strip()[:64])))
        except ValueError:
            continue
        if len(ips) == MAX_SHARED_IPS:
            break
    return ips


def _sync_time(reported: datetime | None, *, now: datetime) -> datetime | None:
    if reported is None:
        return None
    if timezone.is_naive(reported):
        reported = reported.replace(tzinfo=UTC)
    return min(reported, now + SYNC_CLOCK_SKEW)


def apply_failure(appliance, error: str, *, now: datetime, thresholds: Thresholds,
                  not_ours: bool = False, scheduled_at: datetime | None = None,
                  sent_at: datetime | None = None) -> Transition | None:
    """``not_ours``: an answer that is not our appliance's (wrong or invalid id). It counts as a failure (the
    role, shared IPs and sync status it reports are never copied) but is flagged unhealthy at once.
    ``sent_at``: when the failed probe went out. The outage starts there, not when its result was written (a
    timeout is written ``probe_timeout`` later), so a primary timeout counted from it runs out by the time the
    last confirming probe is written, and the failover starts then rather than one evaluation later."""
    before = _confirmed(appliance)
    appliance.status_failures += 1
    appliance.status_successes = 0
    appliance.status_checked_at = now
    appliance.status_latency_ms = None
    if appliance.status_failing_since is None:
        appliance.status_failing_since = min(sent_at or now, now)
    _schedule_next(appliance, now=now, confirming=appliance.status_reachable is True
                   and appliance.status_failures < thresholds.failures_to_down, scheduled_at=scheduled_at)
    if appliance.status_reachable is False:
        # Already down: keep the latest reason on the row, but a different error wording is no new event.
        appliance.status_error = _clip(error, 500)
        return None
    if appliance.status_reachable is None or appliance.status_failures >= thresholds.failures_to_down:
        appliance.status_reachable = False
        appliance.status_healthy = None
        appliance.status_error = _clip(error, 500)
    if not_ours:
        appliance.status_healthy = False
        appliance.status_error = _clip(error, 500)
    return _transition(before, appliance)


def _answered(appliance, *, now: datetime, thresholds: Thresholds, elapsed_ms: float | None,
              scheduled_at: datetime | None = None) -> bool:
    """Book an answer; False while an appliance believed down is recovering (not believed yet)."""
    appliance.status_successes += 1
    appliance.status_failures = 0
    appliance.status_checked_at = now
    appliance.status_latency_ms = round(elapsed_ms, 2) if elapsed_ms is not None else None
    recovering = appliance.status_reachable is False and appliance.status_successes < thresholds.successes_to_up
    _schedule_next(appliance, now=now, confirming=recovering, scheduled_at=scheduled_at)
    return not recovering


def apply_plain_health(appliance, plain, *, now: datetime, thresholds: Thresholds,
                       scheduled_at: datetime | None = None) -> Transition | None:
    """An appliance without an API account, probed through the plain ``/check_health`` page (``PlainHealth``):
    up or down and pass or fail, nothing else; its role, shared IPs and syncs stay unknown."""
    before = _confirmed(appliance)
    if not _answered(appliance, now=now, thresholds=thresholds, elapsed_ms=None, scheduled_at=scheduled_at):
        return None
    appliance.status_failing_since = None
    appliance.status_reachable = True
    appliance.status_healthy = plain.passed
    appliance.status_role, appliance.status_version, appliance.status_shared_ips = "", "", []
    appliance.status_last_sync_at, appliance.status_last_sync_status = None, ""
    appliance.status_error = _clip("" if plain.passed else f"/check_health failed: {plain.message}", 500)
    return _transition(before, appliance)


def apply_success(appliance, result: ProbeResult, *, now: datetime, thresholds: Thresholds,
                  scheduled_at: datetime | None = None) -> Transition | None:
    health = result.health
    identity_error = _identity_error(appliance, health)
    if identity_error:
        return apply_failure(appliance, identity_error, now=now, thresholds=thresholds, not_ours=True,
                             scheduled_at=scheduled_at)
    before = _confirmed(appliance)
    if not _answered(appliance, now=now, thresholds=thresholds, elapsed_ms=result.elapsed_ms,
                     scheduled_at=scheduled_at):
        # Recovering: not believed up yet. The role it answers is kept all the same (the role of a member that
        # is down is the one it last reported, and this is the latest report): an old primary coming back as a
        # second primary is fenced at its first answer, not after the up-debounce (services/fencing.py).
        appliance.status_role = str(health.failover_role)
        return _transition(before, appliance)
    appliance.status_failing_since = None
    error = health.error_message or ""
    appliance.status_reachable = True
    appliance.status_healthy = bool(health.success) and not error
    appliance.status_role = str(health.failover_role)
    appliance.status_version = _clip(" ".join(filter(None, (health.version, health.build))), 100)
    appliance.status_shared_ips = _shared_ips(health.enabled_shared_ips)
    appliance.status_last_sync_at = _sync_time(health.last_data_sync_at, now=now)
    appliance.status_last_sync_status = _clip(health.last_data_sync_status or "", 200)
    appliance.status_error = _clip(error, 500)
    return _transition(before, appliance)


def _transition(before: tuple, appliance) -> Transition | None:
    after = _confirmed(appliance)
    if after == before:
        return None
    was_reachable, was_healthy, was_role, was_sync, was_error = before
    reachable, healthy, role, sync, error = after
    parts = []
    if reachable != was_reachable:
        parts.append("up" if reachable else f"down: {error}")
    if not reachable and role != was_role and role:
        parts.append(f"answers again as {role} (up once confirmed)")
    if reachable:
        if role != was_role and was_role:
            parts.append(f"role {was_role} → {role}")
        elif role != was_role:
            parts.append(f"role {role}")
        if healthy != was_healthy and was_reachable:
            parts.append("healthy" if healthy else "unhealthy")
        if error != was_error and error and was_reachable:
            parts.append(f"error: {error}")
        if sync != was_sync and sync:
            parts.append(f"last sync: {sync}")
    if not parts:  # e.g. an error cleared while the rest stayed the same
        parts.append("error cleared" if was_error and not error else "status changed")
    return Transition(summary=_clip("; ".join(parts), 300))
