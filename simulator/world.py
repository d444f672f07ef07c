"""The set of simulated appliances: lookup, reachability between them, faults and certificates.

Appliance-to-appliance traffic (syncs, probes) is not sent over sockets: all appliances live in one
process, so a peer is "reachable" when neither side carries a fault that would cut the link.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from . import faults as fault_catalogue
from .appliance import Appliance, SyncRecord
from .clock import Clock
from .fleet import iter_appliances, iter_pairs
from .pki import Certificate, CertificateAuthority

Listener = Callable[[Appliance], None]


class World:
    def __init__(self, fleet: dict[str, Any], ca: CertificateAuthority,
                 rogue_ca_factory: Callable[[], CertificateAuthority]) -> None:
        self.fleet = fleet
        self.options = fleet["simulator"]
        self.clock = Clock(float(self.options["time_scale"]))
        self.ca = ca
        self._rogue_ca_factory = rogue_ca_factory
        self._rogue_ca: CertificateAuthority | None = None
        # Generated certificates survive a reset: issuing 10,000 of them again would be slow.
        self._issued: dict[str, Certificate] = {}
        self._rogue_issued: dict[str, Certificate] = {}
        self._listeners: list[Listener] = []
        self.appliances: dict[str, Appliance] = {}
        self.by_host: dict[str, Appliance] = {}
        # Client source addresses cut off from the whole fleet (a probe location losing its network):
        # address -> silent (hold the connection unanswered) or not (reset it).
        self.cut_sources: dict[str, bool] = {}
        self.build()

    # -- construction --------------------------------------------------------------------------

    def build(self) -> None:
        """(Re)create every appliance in the state the fleet file describes."""
        self.appliances = {a["address"]: Appliance(a, org) for org, a in iter_appliances(self.fleet)}
        self.by_host = {a.hostname: a for a in self.appliances.values()}
        now = time.time()
        for _org, pair, p_spec, b_spec in iter_pairs(self.fleet):
            primary, backup = self.appliances[p_spec["address"]], self.appliances[b_spec["address"]]
            relationship = {
                "backup_host": backup.address, "backup_port": None,
                "reverse_host": primary.address, "reverse_port": None,
                "network_method": pair["network_method"], "site_hostname": pair.get("site_hostname"),
            }
            for me, peer, role in ((primary, backup, "primary"), (backup, primary, "backup")):
                me.set_role(role, "fleet file")
                me.peer_address = peer.address
                me.relationship = dict(relationship)
                me.shared_ips = list(pair["shared_ips"])
                me.settings = copy.deepcopy(pair["settings"])
                # Fleet pairs start "in sync": pretend the last pull happened ten minutes ago.
                me.last_sync = SyncRecord(now - 610, now - 600, primary.address, backup.address,
                                          primary.data_bytes, "Success", "fleet file")
                me.sync_history.append(me.last_sync)

    def subscribe(self, listener: Listener) -> None:
        """Be told whenever an appliance's faults or failover state change."""
        self._listeners.append(listener)

    def changed(self, appliance: Appliance) -> None:
        for listener in self._listeners:
            listener(appliance)

    # -- lookup --------------------------------------------------------------------------------

    def get(self, address: str) -> Appliance:
        try:
            return self.appliances[address]
        except KeyError:
            raise KeyError(f"no simulated appliance at {address}") from None

    def resolve(self, host: str) -> Appliance | None:
        return self.appliances.get(host) or self.by_host.get(host.lower().rstrip("."))

    def peer(self, appliance: Appliance) -> Appliance | None:
        return self.appliances.get(appliance.peer_address) if appliance.peer_address else None

    # -- reachability --------------------------------------------------------------------------

    def is_down(self, appliance: Appliance) -> bool:
        return "down" in appliance.faults

    def can_reach(self, source: Appliance, target: Appliance) -> bool:
        """Whether ``source`` can talk to ``target`` over the inter-appliance link."""
        if self.is_down(source) or "partition" in source.faults:
            return False
        return not any(f in target.faults for f in fault_catalogue.PEER_UNREACHABLE_FAULTS)

    def connectivity_ok(self, appliance: Appliance) -> bool:
        """Whether the appliance's Network Connectivity Test IPs answer (none configured: assume yes).

        A test IP that is a simulated appliance answers unless that appliance is down; any other
        address answers unless this appliance is isolated (partition fault with isolated=true).
        """
        partition = appliance.faults.get("partition")
        if partition and partition.get("isolated"):
            return False
        ips = appliance.settings.get("connectivity_test_ips") or []
        if not ips:
            return True
        for ip in ips:
            other = self.appliances.get(ip)
            if other is None or not self.is_down(other):
                return True
        return False

    # -- faults --------------------------------------------------------------------------------

    def set_fault(self, appliance: Appliance, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        appliance.faults[name] = fault_catalogue.validate(name, params)
        if name == "flapping":
            appliance.flap_count = 0
        appliance.fault_since[name] = time.monotonic()
        self.changed(appliance)
        return appliance.faults[name]

    def clear_fault(self, appliance: Appliance, name: str | None = None) -> None:
        names = [name] if name else list(appliance.faults)
        for n in names:
            appliance.faults.pop(n, None)
            appliance.fault_since.pop(n, None)
        self.changed(appliance)

    def cut_off(self, appliance: Appliance, source: str) -> bool | None:
        """How a connection from ``source`` to ``appliance`` is cut: None (served), False (reset), True (held)."""
        if source in self.cut_sources:
            return self.cut_sources[source]
        cut = appliance.faults.get("cut")
        if cut and source in cut["sources"]:
            return bool(cut["silent"])
        return None

    def clear_all_faults(self) -> None:
        self.cut_sources.clear()
        for appliance in self.appliances.values():
            if appliance.faults:
                self.clear_fault(appliance)

    # -- certificates --------------------------------------------------------------------------

    def ensure_certificate(self, appliance: Appliance) -> None:
        """Issue the appliance's default certificate on first use (keeps 10,000-appliance startup fast)."""
        if appliance.certificates:
            return
        cert = self._issued.get(appliance.address)
        if cert is None:
            cert = self.ca.issue(appliance.hostname, [appliance.hostname], [appliance.address],
                                 friendly_name=f"{appliance.name} (simulator CA)")
            self._issued[appliance.address] = cert
        appliance.certificates.append(cert)

    def rogue_certificate(self, appliance: Appliance) -> Certificate:
        """Certificate for the ``changed_cert`` fault: same names, different (untrusted) CA."""
        if self._rogue_ca is None:
            self._rogue_ca = self._rogue_ca_factory()
        cert = self._rogue_issued.get(appliance.address)
        if cert is None:
            cert = self._rogue_ca.issue(appliance.hostname, [appliance.hostname], [appliance.address],
                                        cert_id="changed", friendly_name="changed certificate")
            self._rogue_issued[appliance.address] = cert
        return cert

    def served_certificate(self, appliance: Appliance, server_name: str | None) -> Certificate:
        self.ensure_certificate(appliance)
        if "changed_cert" in appliance.faults:
            return self.rogue_certificate(appliance)
        cert = appliance.certificate_for(server_name)
        assert cert is not None
        return cert
