"""Runbooks: the seed's maintenance procedures as operations (see docs/runbooks.md for the step-by-step map).

A runbook is an Operation like any other (one per pair, persisted steps, resumable, fenced by the epoch); what it
adds is three kinds of steps:

* automatic steps the portal runs itself (a sync-first swap, the swing, opening a maintenance window);
* guided steps a person performs on an appliance, which the portal verifies where the API shows the result
  (the engine's ``Waiting`` + ``verify``);
* checkpoints a person confirms ("maintenance done"): ``checkpoint`` waits for the confirmation and then checks
  what can be checked (the appliance is back and is backup) before carrying on.

The members are named once, by the first step, and kept in the state: ``maintained_id`` (the appliance taken out
of service) and ``interim_id`` (the one serving meanwhile). Every later step reads them from there, so a resumed
runbook never re-decides who is who.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from django.utils import timezone

from appliances.backups import backup_download
from appliances.models import BackupStatus, FailoverRole
from portal.permissions import SYSTEM

from ..maintenance_selectors import runbook_window_minutes
from ..models import OperationKind
from ..services.windows import drill_failed_alert, window_open_for_runbook, windows_close_for_operation
from .breaking import _broken_now, break_steps
from .engine import Context, Skipped, Step, StepFailed, Waiting
from .establish import REVERSED_KEY, establish_steps
from .registry import on_failure, planner
from .role_change import (
    RoleRequest,
    change_role,
    change_role_recheck,
    check_roles,
    request_role_change,
    wait_roles,
)
from .roles import describe, read_role
from .swing_step import swing_step
from .sync import sync_steps
from .sync_records import parse_time, sync_succeeded
from .traffic import serving_verified

SETTLE_TIMEOUT = 120.0


def _iso(value: datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() if value else None


def maintained(context: Context):
    return context.appliance(context.state["maintained_id"])


def interim(context: Context):
    return context.appliance(context.state["interim_id"])


def _age_seconds(since: datetime | None) -> int | None:
    return int((timezone.now() - since).total_seconds()) if since else None


def _last_sync_at(context: Context, *appliances) -> datetime | None:
    """The newest successful data sync either member reports (check_health), None when none is known."""
    found = []
    for appliance in appliances:
        health = read_role(context, appliance).health
        if health and health.last_data_sync_at and sync_succeeded(health.last_data_sync_status):
            found.append(health.last_data_sync_at)
    return max(found) if found else None


# -- building blocks -------------------------------------------------------------------------------------------

def role_change_steps(name: str, description: str, *, to_primary: Callable[[Context], object], sync_first: bool,
                      skip: Callable[[Context], str | None] | None = None, role: str = FailoverRole.PRIMARY) -> list[Step]:
    """Make ``to_primary`` primary (or ``role``) from its side, optionally pulling a data sync first, and wait until
    one is primary and the other backup. The request and the sync age at the switch are remembered for the RTO
    record."""

    def request(context: Context):
        reason = skip(context) if skip else None
        if reason:
            context.remember(**{f"{name}_skipped": True})
            return Skipped(reason)
        context.state.pop(f"{name}_skipped", None)
        target = to_primary(context)
        request_role_change(context, RoleRequest(acting_id=target.pk, role=role, sync_first=sync_first))
        checked = check_roles(context)
        context.remember(**{f"{name}_requested_at": _iso(timezone.now()),
                            f"{name}_sync_age": _age_seconds(_last_sync_at(context, target))})
        changed = change_role(context)
        return f"{checked}. {changed}" if isinstance(changed, str) else changed

    def wait(context: Context):
        if context.state.get(f"{name}_skipped"):
            return Skipped("Nothing to change.")
        return wait_roles(context)

    return [
        Step(name, description, request, recheck=change_role_recheck),
        Step(f"{name}_wait", "Wait until one member is primary and the other backup", wait),
    ]


def measured_swing(name: str, description: str, *, to: Callable[[Context], object], measure: str = "") -> Step:
    """The shared swing step towards ``to``; with ``measure``, the time from that role change's request to the
    traffic seen reaching the new primary is recorded as its RTO."""

    def record(context: Context, target) -> None:
        if measure and context.state.get(f"{measure}_requested_at") and not context.state.get(f"{measure}_skipped"):
            _record_rto(context, measure, target)

    return swing_step(name, description, to=to, on_arrival=record)


def _record_rto(context: Context, change: str, target) -> None:
    requested = parse_time(context.state[f"{change}_requested_at"])
    rto = round((timezone.now() - requested).total_seconds(), 3)
    changes = [entry for entry in context.state.get("role_changes", []) if entry.get("change") != change]
    changes.append({"change": change, "to": target.name, "requested_at": context.state[f"{change}_requested_at"],
                    "verified_at": _iso(timezone.now()), "rto_seconds": rto,
                    "sync_age_seconds": context.state.get(f"{change}_sync_age")})
    context.remember(role_changes=changes)


def checkpoint(name: str, description: str, *, instructions: Callable[[Context], str],
               ready: Callable[[Context], tuple[bool, str]] | None = None) -> Step:
    """A step a person confirms. After the confirmation, ``ready`` checks what the appliances can show (returns
    (done, detail)); while not ready the step keeps waiting and says why under its instructions."""

    def run(context: Context) -> Waiting:
        return Waiting(instructions(context))

    def verify(context: Context) -> str | None:
        step = context.step
        if step is None or step.confirmed_at is None:
            return None
        who = step.confirmed_by.username if step.confirmed_by_id else "the operator"
        if ready is None:
            return f"Confirmed by {who}."
        done, detail = ready(context)
        if done:
            return f"Confirmed by {who}; {detail}"
        context.heartbeat(f"{instructions(context)}\n\nNot yet: {detail}")
        return None

    return Step(name, description, run, verify=verify)


def open_window_step(name: str = "open_window") -> Step:
    def run(context: Context) -> str:
        window = window_open_for_runbook(operation=context.operation, appliance=maintained(context),
                                         minutes=runbook_window_minutes(context.params))
        return (f"Maintenance window for {window.covers} open until {window.ends_at:%Y-%m-%d %H:%M} UTC: its alerts "
                "are suppressed and the portal's automatic failover of the pair is paused.")

    return Step(name, "Open a maintenance window for the appliance under maintenance", run)


def close_window_step(name: str = "close_window") -> Step:
    def run(context: Context) -> str:
        closed = windows_close_for_operation(operation=context.operation)
        return f"{closed} maintenance window(s) closed." if closed else "No window of this runbook was open."

    return Step(name, "Close the maintenance window", run)


def software_text(health) -> str:
    """"<version> build <build>" of a health answer: how runbooks name the software a member runs."""
    return f"{health.version} build {health.build}"


def software(reading, appliance) -> str:
    """"<version> build <build>" as the appliance reports it now, else as the inventory last saw it ("" unknown)."""
    if reading is not None and reading.health is not None:
        return software_text(reading.health)
    return f"{appliance.product_version} build {appliance.build}" if appliance.product_version else ""


def _the_primary(readings, refusal: str):
    """The one member reading primary when the other reads backup; else the step fails with ``refusal`` and the
    roles as read."""
    primaries = [r for r in readings if r.role == FailoverRole.PRIMARY]
    if len(primaries) != 1 or not any(r.role == FailoverRole.BACKUP for r in readings):
        raise StepFailed(f"{refusal}; now {describe(readings)}.")
    return primaries[0]


def _software_change(context: Context, mine) -> str:
    """What the maintenance did to the software, as the appliance reports it: an upgrade done meanwhile shows."""
    before, now = context.state.get("maintained_software", ""), software(mine, maintained(context))
    context.remember(maintained_software_after=now)
    if not now:
        return ""
    if before and before != now:
        return f" {mine.name} was {before}, now reports {now}."
    return f" {mine.name} reports {now}" + (" (unchanged)." if before else ".")


def back_as_backup(context: Context) -> tuple[bool, str]:
    """Ready for the swap back: the maintained appliance answers while the interim one is primary. It may come back
    believing it is still primary (it went down as primary): the next step makes it backup. The detail proves what
    it reports (roles, version and build)."""
    mine, theirs = read_role(context, maintained(context)), read_role(context, interim(context))
    if not mine.reachable:
        return False, f"{mine.name} does not answer yet ({mine.error})."
    if theirs.role != FailoverRole.PRIMARY:
        return False, f"{theirs.name} is not primary any more: {describe((mine, theirs))}. Check the pair first."
    if mine.role not in (FailoverRole.BACKUP, FailoverRole.PRIMARY):
        return False, f"{mine.name} is {mine.role}, not in the relationship: {describe((mine, theirs))}."
    context.remember(returned_as_primary=mine.role == FailoverRole.PRIMARY)
    return True, describe((mine, theirs)) + _software_change(context, mine)


def _unless_returned_as_primary(context: Context) -> str | None:
    return None if context.state.get("returned_as_primary") else "It came back as backup."


def demote_returned_steps() -> list[Step]:
    """The member that went down as primary may come back as primary next to the interim one: it is made backup,
    without a sync (the interim primary holds the newer data), before anything is swapped back."""
    return role_change_steps("demote_returned", "Make the returned appliance backup if it came back as primary",
                             to_primary=maintained, sync_first=False, role=FailoverRole.BACKUP,
                             skip=_unless_returned_as_primary)


def verify_end_state(context: Context, *, synced_since_key: str | None) -> str:
    """The runbook's proof: the maintained appliance is primary, the interim one backup, the site's traffic reaches
    the primary, and (with ``synced_since_key``) a data sync succeeded after that moment."""
    primary, backup = maintained(context), interim(context)
    since = parse_time(context.state.get(synced_since_key)) if synced_since_key else None
    roles = context.poll(lambda: serving_verified(context, primary, backup, other_must_be=FailoverRole.BACKUP),
                         timeout=SETTLE_TIMEOUT, what="the end state to be verified")
    last_sync = _last_sync_at(context, primary, backup)
    context.remember(final_sync_at=_iso(last_sync))
    if since is not None and (last_sync is None or last_sync < since.replace(microsecond=0)):
        raise StepFailed(f"{roles}, but no successful data sync is recorded since {since:%H:%M:%S} UTC: run "
                         "“Sync now” on the pair and check the sync history.")
    age = f"last data sync {last_sync:%Y-%m-%d %H:%M:%S} UTC" if last_sync else "no data sync recorded"
    return f"{roles}; {age}."


def prefixed(prefix: str, steps: list[Step]) -> list[Step]:
    """Steps borrowed from another operation kind, renamed so each name stays unique in the runbook."""
    return [replace(step, name=f"{prefix}_{step.name}") for step in steps]


def skipped_when(reason: Callable[[Context], str | None], steps: list[Step]) -> list[Step]:
    """Borrowed steps that this runbook skips, saying ``reason``, when it gives one; run as they are otherwise."""

    def skipping(step: Step) -> Step:
        def run(context: Context):
            why = reason(context)
            return Skipped(why) if why else step.run(context)

        return replace(step, run=run)

    return [skipping(step) for step in steps]


# -- planned maintenance (seed: "Perform Failover for Planned Maintenance", steps 1-7) ------------------------

def planned_check(context: Context) -> str:
    pair = context.pair
    first, second = read_role(context, pair.primary), read_role(context, pair.backup)
    readings = (first, second)
    unreachable = [r for r in readings if not r.reachable]
    if unreachable:
        raise StepFailed(f"{describe(readings)}. Planned maintenance needs both members; when one is down, use the "
                         "unplanned maintenance runbook.")
    serving = _the_primary(readings, "Planned maintenance needs one primary and one backup")
    other = second if serving is first else first
    last_sync = _last_sync_at(context, pair.primary, pair.backup)
    context.remember(maintained_id=serving.appliance_id, interim_id=other.appliance_id,
                     sync_age_at_start=_age_seconds(last_sync),
                     maintained_software=software(serving, context.appliance(serving.appliance_id)))
    age = f"last data sync {last_sync:%Y-%m-%d %H:%M} UTC" if last_sync else "no data sync recorded yet"
    return f"{serving.name} goes into maintenance; {other.name} serves meanwhile ({age})."


def _maintenance_instructions(context: Context) -> str:
    away, serving = maintained(context), interim(context)
    return (f"{serving.name} is primary and serves the site; {away.name} is backup. Perform the maintenance on "
            f"{away.name} ({away.management_host}). Record every change you make in /login on {serving.name} in the "
            f"change log below: they are kept when {away.name} takes over again. When {away.name} is ready and back "
            "on the network, click “Maintenance done”. Cancelling here leaves "
            f"{serving.name} primary and the window open until its end; swap back later with Become primary "
            f"(sync first) on {away.name}.")


@planner(OperationKind.MAINTENANCE)
def plan_planned(context: Context) -> list[Step]:
    return [
        Step("check", "Read both members' roles and the last data sync (step 1)", planned_check),
        *role_change_steps("swap_out", "Make the backup primary, pulling a data sync first (steps 2-3)",
                           to_primary=interim, sync_first=True),
        measured_swing("swing_out", "Swing the site's traffic to the new primary (step 4)", to=interim, measure="swap_out"),
        open_window_step(),
        checkpoint("maintenance", "Perform the maintenance; log /login changes (steps 5-6)",
                   instructions=_maintenance_instructions, ready=back_as_backup),
        *demote_returned_steps(),
        *role_change_steps("swap_back", "Make the original primary primary again, sync first (step 7: 1-3)",
                           to_primary=maintained, sync_first=True),
        measured_swing("swing_back", "Swing the traffic back (step 7: 4)", to=maintained, measure="swap_back"),
        Step("verify", "Verify the roles, the data sync and the traffic",
             lambda context: verify_end_state(context, synced_since_key="swap_back_requested_at")),
        close_window_step(),
    ]


# -- unplanned maintenance (seed: "Perform Failover for Unplanned Maintenance", two flows) --------------------

def unplanned_assess(context: Context) -> str:
    """Who is down and who serves: the normal primary is expected down. When the other member is already primary
    (an automatic failover happened), the flow skips to its step 3."""
    pair = context.pair
    readings = (read_role(context, pair.primary), read_role(context, pair.backup))
    down = [r for r in readings if not r.reachable]
    if not down:
        raise StepFailed(f"Both members answer ({describe(readings)}): use the planned maintenance runbook, which "
                         "loses nothing.")
    if len(down) == 2:
        raise StepFailed(f"Neither member answers: {describe(readings)}. Nothing can be moved.")
    up = readings[0] if down[0] is readings[1] else readings[1]
    if up.role not in (FailoverRole.PRIMARY, FailoverRole.BACKUP):
        raise StepFailed(f"{up.name} is {up.role}, not in the relationship: {describe(readings)}.")
    last_sync = _last_sync_at(context, context.appliance(up.appliance_id))
    context.remember(maintained_id=down[0].appliance_id, interim_id=up.appliance_id,
                     already_failed_over=up.role == FailoverRole.PRIMARY, data_loss_since=_iso(last_sync),
                     maintained_software=software(None, context.appliance(down[0].appliance_id)))
    window = (f"data written on {down[0].name} since {last_sync:%Y-%m-%d %H:%M:%S} UTC (the last data sync) is not on "
              f"{up.name}" if last_sync else f"no data sync is recorded: {up.name} may miss everything")
    if up.role == FailoverRole.PRIMARY:
        return f"{up.name} is already primary (automatic failover happened): skipping to step 3. Data at risk: {window}."
    return f"{down[0].name} does not answer; {up.name} becomes primary. Data at risk: {window}."


def _skip_when_failed_over(context: Context) -> str | None:
    if context.state.get("already_failed_over"):
        return "An automatic failover already made it primary (the seed's “skip to step 3”)."
    return None


def _login_changed(context: Context) -> bool:
    return bool(context.params.get("login_changed"))


def _unplanned_instructions(context: Context) -> str:
    away, serving = maintained(context), interim(context)
    if _login_changed(context):
        changes = (f"Track every /login change you make on {serving.name} (except the failover page) in the change "
                   "log below: they are re-applied after the swap back.")
    else:
        changes = (f"Do not change /login settings on {serving.name}: changes made there are lost when it becomes "
                   "backup again (session data and recordings are kept).")
    return (f"{serving.name} serves the site. Repair {away.name}. {changes} When {away.name} is back on the network "
            "as backup, click “Maintenance done”. Cancelling here leaves "
            f"{serving.name} primary and the window open until its end.")


def _reapply_instructions(context: Context) -> str:
    entries = list(context.operation.change_log.order_by("created_at", "id").values_list("text", flat=True))
    listed = "\n".join(f"• {text}" for text in entries) or "(the change log is empty)"
    return (f"Re-apply these /login changes on {maintained(context).name}, now primary again, then click "
            f"“Done”:\n{listed}")


def _skip_unless_login_changed(context: Context) -> str | None:
    return None if _login_changed(context) else "No /login changes to re-apply (flow 1)."


@planner(OperationKind.UNPLANNED_MAINTENANCE)
def plan_unplanned(context: Context) -> list[Step]:
    # Flow 1 (no /login change since the last sync) swaps back with a data sync first; flow 2 swaps back as is,
    # has the changes re-applied, then runs a data sync (the seed's steps 5-7).
    flow_two = _login_changed(context)
    return [
        Step("assess", "Find the member that is down and show the data at risk", unplanned_assess),
        *role_change_steps("promote", "Make the backup primary (steps 1-2)", to_primary=interim, sync_first=False,
                           skip=_skip_when_failed_over),
        measured_swing("swing_out", "Swing the site's traffic to the new primary (step 3)", to=interim, measure="promote"),
        open_window_step(),
        checkpoint("maintenance", "Repair the down member (step 4)", instructions=_unplanned_instructions,
                   ready=back_as_backup),
        *demote_returned_steps(),
        *role_change_steps("swap_back", "Swap the roles back (step 5)", to_primary=maintained,
                           sync_first=not flow_two),
        measured_swing("swing_back", "Swing the traffic back (step 5)", to=maintained, measure="swap_back"),
        checkpoint("reapply", "Re-apply the /login changes from the change log (flow 2, step 6)",
                   instructions=_reapply_instructions) if flow_two else
        Step("reapply", "Re-apply the /login changes (flow 2 only)", lambda c: Skipped("Flow 1: nothing to re-apply.")),
        *skipped_when(_skip_unless_login_changed, prefixed("final_sync", sync_steps())),
        Step("verify", "Verify the roles, the data sync and the traffic",
             lambda context: verify_end_state(context, synced_since_key="swap_back_requested_at")),
        close_window_step(),
    ]


# -- failover drill: a planned switchover and back, measured ----------------------------------------------------

def drill_verify_out(context: Context) -> str:
    """Half-way proof: the interim member is primary and the site's traffic reaches it."""
    mine, theirs = read_role(context, interim(context)), read_role(context, maintained(context))
    if mine.role != FailoverRole.PRIMARY or theirs.role != FailoverRole.BACKUP:
        raise StepFailed(f"After the switchover the roles are not as expected: {describe((mine, theirs))}.")
    return describe((mine, theirs))


@planner(OperationKind.DRILL)
def plan_drill(context: Context) -> list[Step]:
    return [
        Step("check", "Read both members' roles and the last data sync", planned_check),
        *role_change_steps("swap_out", "Switch over to the backup, sync first", to_primary=interim, sync_first=True),
        measured_swing("swing_out", "Swing the site's traffic to it (RTO measured)", to=interim, measure="swap_out"),
        Step("verify_out", "Verify the backup serves", drill_verify_out),
        *role_change_steps("swap_back", "Switch back, sync first", to_primary=maintained, sync_first=True),
        measured_swing("swing_back", "Swing the traffic back (RTO measured)", to=maintained, measure="swap_back"),
        Step("verify", "Verify the roles, the data sync and the traffic",
             lambda context: verify_end_state(context, synced_since_key="swap_back_requested_at")),
    ]


@on_failure(OperationKind.DRILL)
def drill_failed(context: Context) -> None:
    pair = context.pair
    drill_failed_alert(context.operation, describe((read_role(context, pair.primary), read_role(context, pair.backup))))


# -- pair upgrades (reference §6; the RMA case's restore-failover step) --------------------------------------
#
# "A" is the appliance the site resolves to (the primary), "B" the backup. Synchronous: A upgraded first and keeps
# the primary role; asynchronous: B upgraded first and takes over, then A, then the relationship is re-established
# from B with A as backup. With ``rma`` the appliances are not in failover yet (a replacement): the sync and the
# break are skipped, and A is the working member, B the replacement.

def _asynchronous(context: Context) -> bool:
    return context.params.get("method") == "asynchronous"


def _rma(context: Context) -> bool:
    return bool(context.params.get("rma"))


def upgrade_check(context: Context) -> str:
    pair = context.pair
    readings = (read_role(context, pair.primary), read_role(context, pair.backup))
    unreachable = [r for r in readings if not r.reachable]
    if unreachable:
        raise StepFailed(f"Both members must answer before an upgrade: {describe(readings)}.")
    if _rma(context):
        replaced = context.params.get("replacement_id")
        a = pair.peer_of(context.appliance(replaced)) if replaced else pair.primary
    else:
        a = context.appliance(_the_primary(readings, "An upgrade starts from one primary and one backup").appliance_id)
    b = pair.peer_of(a)
    versions = {str(r.appliance_id): software_text(r.health) for r in readings}
    context.remember(a_id=a.pk, b_id=b.pk, versions_before=versions)
    return f"A = {a.name} ({versions[str(a.pk)]}), B = {b.name} ({versions[str(b.pk)]})."


def _a(context: Context):
    return context.appliance(context.state["a_id"])


def _b(context: Context):
    return context.appliance(context.state["b_id"])


def upgrade_backup(context: Context) -> str:
    """Reference §6.2 step 1: a configuration backup of A, stored encrypted with the appliance's backups."""
    a = _a(context)
    # The person who started the runbook, or the portal itself (a runbook started by the system).
    backup = backup_download(actor=context.operation.requested_by or SYSTEM, appliance=a)
    if backup.status != BackupStatus.SUCCEEDED:
        raise StepFailed(f"The configuration backup of {a.name} failed: {backup.failure_reason}. Nothing else was "
                         "done; fix the backup first.")
    context.remember(backup_id=backup.pk)
    return f"Backup of {a.name} stored ({backup.size_bytes} bytes, SHA-256 {backup.sha256[:16]}…)."


def _skip_sync_for_rma(context: Context) -> str | None:
    return "The appliances are not in failover (replacement): step skipped." if _rma(context) else None


def _skip_break_when_alone(context: Context) -> str | None:
    if _rma(context) and _broken_now(context):
        return "Neither member is in a relationship (replacement): nothing to break."
    return None


def upgrade_member(name: str, which: Callable[[Context], object], label: str) -> Step:
    """A guided step: the person installs the update in /appliance; verified when the appliance reports another
    version or build than before (read from check_health, as the probes do)."""

    def run(context: Context) -> Waiting:
        member = which(context)
        before = context.state["versions_before"][str(member.pk)]
        package = ("the software package the vendor's support built for it" if _rma(context) and member.pk ==
                   context.state["b_id"] else "the update")
        return Waiting(
            f"Upgrade {label} {member.name} ({member.management_host}, now {before}): in /appliance > Updates install "
            f"{package}. Users and sessions are dropped meanwhile; if the Base update misbehaves do not reboot, call "
            "support. Then click “I did it — verify”: the portal checks the version and build it reports."
        )

    def verify(context: Context) -> str | None:
        member = which(context)
        reading = read_role(context, member)
        if reading.health is None:
            return None
        now = software_text(reading.health)
        before = context.state["versions_before"][str(member.pk)]
        if _rma(context) and now == _peer_version(context, member):
            return f"{member.name} reports {now}, the same software as its peer."
        if _rma(context) and member.pk == context.state["a_id"] and now == before and context.step.confirmed_at:
            # A replacement's peer may already run the software the replacement is brought to: the person says so.
            return f"{member.name} keeps {now} (confirmed: no upgrade needed on the working member)."
        if now == before:
            context.heartbeat(f"{member.name} still reports {now}: the upgrade is not visible yet.")
            return None
        return f"{member.name} was {before}, now reports {now}."

    return Step(name, f"Upgrade {label} and verify its version and build", run, verify=verify)


def _peer_version(context: Context, member) -> str | None:
    health = read_role(context, context.pair.peer_of(member)).health
    return software_text(health) if health else None


def _serve_from_b_instructions(context: Context) -> str:
    b = _b(context)
    return (f"Point the site at {b.name}: move the shared IP to it (or swing DNS/NAT) and check in production that "
            f"users reach it. {_a(context).name} is upgraded in the next step. Click “Done” when {b.name} serves.")


def _new_roles(context: Context):
    """(primary, backup) after the upgrade: A keeps the primary role (synchronous), B takes it (asynchronous)."""
    a, b = _a(context), _b(context)
    return (b, a) if _asynchronous(context) else (a, b)


def set_direction(context: Context) -> str:
    """The relationship is established from the member that serves after the upgrade; when that is the pair's
    normal backup, the pair's connection details are used the other way round."""
    primary, backup = _new_roles(context)
    context.remember(**{REVERSED_KEY: primary.pk == context.pair.backup_id})
    return f"The relationship is established from {primary.name} with {backup.name} as backup."


def upgrade_verify(context: Context) -> str:
    a = _a(context)
    primary, backup = _new_roles(context)
    mine, theirs = read_role(context, primary), read_role(context, backup)
    if mine.role != FailoverRole.PRIMARY or theirs.role != FailoverRole.BACKUP:
        raise StepFailed(f"After the upgrade the roles are not as expected: {describe((mine, theirs))}.")
    versions = ", ".join(f"{r.name} {software_text(r.health)}" for r in (mine, theirs))
    tail = (f" To fail back to {a.name}, run the planned maintenance runbook (a sync-first swap)."
            if _asynchronous(context) else "")
    return f"{describe((mine, theirs))}; {versions}.{tail}"


@planner(OperationKind.PAIR_UPGRADE)
def plan_upgrade(context: Context) -> list[Step]:
    common = [
        Step("check", "Read both members' roles, versions and builds", upgrade_check),
        Step("backup", "Download a configuration backup of A (§6.2 step 1)", upgrade_backup),
        *skipped_when(_skip_sync_for_rma, prefixed("sync", sync_steps())),
        # A replacement is not in failover, but the working member may still hold the relationship with the dead
        # box: it is broken then (the seed's "skip the break step" assumes it is not).
        *skipped_when(_skip_break_when_alone, prefixed("break", break_steps())),
    ]
    if _asynchronous(context):
        # A replacement's asynchronous path starts by restoring A's backup onto it: the RMA case records that
        # before it starts this runbook.
        path = [
            upgrade_member("upgrade_b", _b, "B"),
            checkpoint("serve_from_b", "B serves the site; verify in production", instructions=_serve_from_b_instructions),
            upgrade_member("upgrade_a", _a, "A"),
        ]
    else:
        path = [upgrade_member("upgrade_a", _a, "A"), upgrade_member("upgrade_b", _b, "B")]
    return [
        *common, *path,
        Step("direction", "Choose which member the relationship is established from", set_direction),
        *prefixed("establish", establish_steps()),
        Step("verify", "Verify the roles, versions and builds", upgrade_verify),
    ]
