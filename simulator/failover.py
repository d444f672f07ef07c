"""Failover behaviour of appliance pairs, modelled on the vendor's failover guide.

* A data sync always copies the current primary's data over the backup's copy and takes
  ``bytes / bandwidth`` simulated seconds (the backup's bandwidth limit wins).
* A role swap is serial: the appliance giving up the primary role steps down first, the other
  steps up ``swap_gap`` later, so for a moment both report ``backup``.
* A backup with automatic failover promotes itself after ``primary_timeout`` if it cannot reach
  the primary but can reach its connectivity test IPs; under a partition this yields two primaries.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from .appliance import Appliance, SyncRecord
from .world import World

SYNC_OVERHEAD = 2.0  # simulated seconds every sync costs regardless of size
PARTITION_POLL = 0.02  # real seconds between link checks while a sync runs


class FailoverError(Exception):
    """Refusal that the command API reports as an ``<error>``."""


class FailoverEngine:
    def __init__(self, world: World) -> None:
        self.world = world
        self.clock = world.clock
        self._tasks: set[asyncio.Task] = set()
        self._auto_failover: dict[str, asyncio.TimerHandle] = {}
        self._auto_sync: dict[str, asyncio.TimerHandle] = {}
        world.subscribe(self.reevaluate)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        for appliance in self.world.appliances.values():
            self._schedule_auto_sync(appliance)

    def reset(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        for handle in [*self._auto_failover.values(), *self._auto_sync.values()]:
            handle.cancel()
        self._auto_failover.clear()
        self._auto_sync.clear()

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- relationship --------------------------------------------------------------------------

    def establish(self, primary: Appliance, backup_host: str, backup_port: int,
                  reverse_host: str, reverse_port: int, network_method: str, port: int) -> Appliance:
        """Run on the intended primary: pair it with the appliance at backup_host:backup_port."""
        if primary.role != "none":
            raise FailoverError("This site instance is already in a failover relationship.")
        backup = self.world.resolve(backup_host)
        if backup is None or backup is primary or backup_port != port or not self.world.can_reach(primary, backup):
            raise FailoverError(f"Unable to connect to the backup site instance at {backup_host}:{backup_port}.")
        if self.world.resolve(reverse_host) is not primary or reverse_port != port:
            raise FailoverError(
                f"The backup site instance could not connect back to this site at {reverse_host}:{reverse_port}."
            )
        if backup.role != "none":
            raise FailoverError(f"{backup.hostname} is already in a failover relationship.")
        if (backup.version, backup.build) != (primary.version, primary.build):
            raise FailoverError(
                f"Software mismatch: this site runs {primary.version_string}, the backup runs "
                f"{backup.version_string}. Both must have the same product version and build."
            )
        if backup.inter_appliance_key != primary.inter_appliance_key:
            raise FailoverError("The inter-appliance pre-shared keys of the two site instances do not match.")
        relationship = {"backup_host": backup_host, "backup_port": backup_port, "reverse_host": reverse_host,
                        "reverse_port": reverse_port, "network_method": network_method, "site_hostname": None}
        for me, peer, role in ((primary, backup, "primary"), (backup, primary, "backup")):
            me.peer_address = peer.address
            me.relationship = dict(relationship)
            me.last_sync = None
            me.set_role(role, "relationship established")
        # The vendor starts the first sync about a minute after establishing.
        self._spawn(self._first_sync(primary, backup))
        self._schedule_auto_sync(backup)
        self.world.changed(primary)
        self.world.changed(backup)
        return backup

    async def _first_sync(self, primary: Appliance, backup: Appliance) -> None:
        await self.clock.sleep(float(self.world.options["first_sync_delay"]))
        if backup.peer_address == primary.address and not backup.busy:
            await self._guarded_sync(backup, "initial sync")

    def break_relationship(self, appliance: Appliance) -> None:
        self._refuse_if_busy(appliance)
        peer = self.world.peer(appliance)
        if appliance.role == "none" or peer is None:
            raise FailoverError("This site instance is not in a failover relationship.")
        members = [appliance]
        # The peer only learns about the break if it can be told.
        if self.world.can_reach(appliance, peer) and peer.peer_address == appliance.address:
            members.append(peer)
        for member in members:
            member.peer_address = None
            member.relationship = None
            member.set_role("none", "relationship broken")
            self._cancel(self._auto_sync, member.address)
            self._cancel(self._auto_failover, member.address)
            self.world.changed(member)

    # -- data sync -----------------------------------------------------------------------------

    def sync_now(self, appliance: Appliance) -> None:
        """Sync Now: the backup pulls the primary's data (callable on either member)."""
        self._refuse_if_busy(appliance)
        peer = self._peer_or_error(appliance)
        backup = appliance if appliance.role == "backup" else peer
        if backup.role != "backup" or self._primary_of(backup) is None:
            raise FailoverError("Data sync needs one primary and one backup site instance.")
        if not self.world.can_reach(backup, self._primary_of(backup)):
            raise FailoverError("Unable to contact the peer site instance.")
        if backup.sync_in_progress:
            raise FailoverError("A data sync is already in progress.")
        self._spawn(self._guarded_sync(backup, "sync now"))

    def _primary_of(self, backup: Appliance) -> Appliance | None:
        peer = self.world.peer(backup)
        return peer if peer is not None and peer.role == "primary" else None

    async def _guarded_sync(self, backup: Appliance, reason: str) -> bool:
        primary = self._primary_of(backup)
        if primary is None or backup.sync_in_progress:
            return False
        return await self.sync(primary, backup, reason)

    def sync_seconds(self, primary: Appliance, backup: Appliance) -> float:
        """Simulated duration; the backup's bandwidth limit applies (the guide says it wins)."""
        limit = int(backup.settings.get("bandwidth_limit") or 0)
        bandwidth = limit if limit > 0 else int(self.world.options["link_bandwidth"])
        return SYNC_OVERHEAD + primary.data_bytes / bandwidth

    async def sync(self, primary: Appliance, backup: Appliance, reason: str) -> bool:
        record = SyncRecord(time.time(), None, primary.address, backup.address, primary.data_bytes,
                            "In progress", reason)
        snapshot = copy.deepcopy(primary.data)
        for member in (primary, backup):
            member.sync_in_progress = True
        try:
            deadline = time.monotonic() + self.clock.real(self.sync_seconds(primary, backup))
            while (remaining := deadline - time.monotonic()) > 0:
                if not self.world.can_reach(backup, primary):
                    break
                await asyncio.sleep(min(remaining, PARTITION_POLL))
            ok = self.world.can_reach(backup, primary)
            if ok:
                # Everything on the backup is overwritten by what the primary had.
                backup.data = snapshot
            record.status = "Success" if ok else "Failed: lost contact with the peer site instance"
        finally:
            record.finished = time.time()
            for member in (primary, backup):
                member.sync_in_progress = False
                member.sync_history.append(record)
                member.last_sync = record
        self._schedule_auto_sync(backup)
        return ok

    # -- role changes --------------------------------------------------------------------------

    async def set_role(self, appliance: Appliance, role: str, data_sync_first: bool, force: bool) -> str:
        """The command API's set_failover_role. Returns the success text or raises FailoverError."""
        if role not in ("primary", "backup"):
            raise FailoverError("Invalid role. Valid roles are 'primary' and 'backup'.")
        if appliance.role == "none":
            raise FailoverError("Failover is not configured on this site instance.")
        self._refuse_if_busy(appliance)
        if appliance.role == role:
            return "Successfully changed role."
        peer = self._peer_or_error(appliance)
        reachable = self.world.can_reach(appliance, peer)
        new_primary, new_backup = (appliance, peer) if role == "primary" else (peer, appliance)

        if not reachable:
            if role == "backup" and not force:
                raise FailoverError(
                    "Unable to contact the peer site instance; role change cancelled so that the pair "
                    "keeps one primary and one backup. Use force to become backup anyway."
                )
            if data_sync_first and not force:
                raise FailoverError("Unable to contact the peer site instance to pull a data sync.")
            # Alone: change only this appliance; the peer keeps whatever role it believes it has.
            appliance.set_role(role, "forced, peer unreachable" if force else "peer unreachable")
            self.world.changed(appliance)
            return "Successfully changed role."

        if data_sync_first:
            self._spawn(self._sync_then_swap(new_primary, new_backup, force))
            return "Successfully started data sync. Role change will occur upon successful completion."
        await self._swap(new_primary, new_backup, "set_failover_role")
        return "Successfully changed role."

    async def _swap(self, new_primary: Appliance, new_backup: Appliance, reason: str) -> None:
        for member in (new_primary, new_backup):
            member.busy = "role_swap"
        try:
            if new_backup.role != "backup":
                new_backup.set_role("backup", reason)
                self.world.changed(new_backup)
            await self.clock.sleep(float(self.world.options["swap_gap"]))
            new_primary.set_role("primary", reason)
            self.world.changed(new_primary)
        finally:
            for member in (new_primary, new_backup):
                member.busy = None
                member.accepting_users = True
            # Roles changed while busy; re-check auto-failover/auto-sync timers now that they are final.
            self.world.changed(new_primary)
            self.world.changed(new_backup)

    async def _sync_then_swap(self, new_primary: Appliance, new_backup: Appliance, force: bool) -> None:
        current_primary, current_backup = (
            (new_backup, new_primary) if new_backup.role == "primary" else (new_primary, new_backup)
        )
        for member in (new_primary, new_backup):
            member.busy = "data_sync_first"
        # Users on the current primary are disconnected and kept out until the swap completes.
        current_primary.users_connected = 0
        current_primary.accepting_users = False
        try:
            ok = await self.sync(current_primary, current_backup, "data_sync_first")
        finally:
            for member in (new_primary, new_backup):
                member.busy = None
        if ok:
            await self._swap(new_primary, new_backup, "set_failover_role data_sync_first")
        elif force and new_backup.role == "primary":
            new_backup.set_role("backup", "forced after failed data sync")
            new_backup.accepting_users = True
            self.world.changed(new_backup)
        else:
            current_primary.accepting_users = True

    # -- automatic behaviour -------------------------------------------------------------------

    def reevaluate(self, appliance: Appliance) -> None:
        """Called whenever an appliance changes: (re)arm or cancel automatic failover timers."""
        for member in filter(None, (appliance, self.world.peer(appliance))):
            if self._should_auto_failover(member):
                if member.address not in self._auto_failover:
                    timeout = float(member.settings.get("primary_timeout") or 0)
                    self._auto_failover[member.address] = self.clock.call_later(
                        timeout, lambda m=member: self._auto_failover_fire(m)
                    )
            else:
                self._cancel(self._auto_failover, member.address)
            if member.role != "backup":
                self._cancel(self._auto_sync, member.address)
            elif member.address not in self._auto_sync and not member.sync_in_progress:
                self._schedule_auto_sync(member)

    def _should_auto_failover(self, backup: Appliance) -> bool:
        settings = backup.settings
        primary = self.world.peer(backup)
        return (
            backup.role == "backup"
            and primary is not None
            and bool(settings.get("enable_backup_operations"))
            and bool(settings.get("automatic_failover"))
            and not self.world.is_down(backup)
            and backup.busy is None
            and not self.world.can_reach(backup, primary)
        )

    def _auto_failover_fire(self, backup: Appliance) -> None:
        self._auto_failover.pop(backup.address, None)
        if self._should_auto_failover(backup) and self.world.connectivity_ok(backup):
            backup.set_role("primary", "automatic failover: primary unreachable")
            self.world.changed(backup)

    def _schedule_auto_sync(self, backup: Appliance) -> None:
        self._cancel(self._auto_sync, backup.address)
        interval = float(backup.settings.get("sync_interval") or 0)
        if backup.role == "backup" and interval > 0 and backup.settings.get("enable_backup_operations"):
            self._auto_sync[backup.address] = self.clock.call_later(interval, lambda: self._auto_sync_fire(backup))

    def _auto_sync_fire(self, backup: Appliance) -> None:
        self._auto_sync.pop(backup.address, None)
        primary = self._primary_of(backup)
        if (backup.busy is None and primary is not None and not self.world.is_down(backup)
                and self.world.can_reach(backup, primary)):
            self._spawn(self._guarded_sync(backup, "automatic sync"))
        else:
            self._schedule_auto_sync(backup)

    def settings_changed(self, appliance: Appliance) -> None:
        self._schedule_auto_sync(appliance)
        self._cancel(self._auto_failover, appliance.address)
        self.reevaluate(appliance)

    # -- helpers -------------------------------------------------------------------------------

    def conflict(self, appliance: Appliance) -> bool:
        """Two primaries that can see each other: what /login reports as a failover conflict."""
        peer = self.world.peer(appliance)
        return (appliance.role == "primary" and peer is not None and peer.role == "primary"
                and self.world.can_reach(appliance, peer))

    def _peer_or_error(self, appliance: Appliance) -> Appliance:
        peer = self.world.peer(appliance)
        if peer is None:
            raise FailoverError("Failover is not configured on this site instance.")
        return peer

    @staticmethod
    def _refuse_if_busy(appliance: Appliance) -> None:
        if appliance.busy:
            raise FailoverError("A failover operation is in progress; try again when the role swap completes.")

    @staticmethod
    def _cancel(handles: dict[str, Any], address: str) -> None:
        handle = handles.pop(address, None)
        if handle is not None:
            handle.cancel()
