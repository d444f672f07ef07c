"""Control API (plain HTTP + JSON on 127.0.0.1): faults, state inspection and direct state edits.

This is the test harness's back door; it bypasses every appliance rule on purpose.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .appliance import ROLES, Appliance
from .faults import FaultError
from .fleet import PROFILES
from .httpio import Request, Response
from .pki import load_imported
from .world import World

_APPLIANCE = re.compile(r"^/appliances/(?P<address>[0-9.]+)(?P<rest>/.*)?$")
# A client source address cut off from every appliance (a probe location losing its network).
_CUT = re.compile(r"^/cuts/(?P<source>[0-9.]+)$")
# Simulated NAT device: one translation per public address:port (IPv6 in brackets).
_NAT = re.compile(r"^/nat/(?P<public>[0-9.]+|\[[0-9a-fA-F:]+\]):(?P<port>[0-9]{1,5})$")

# Fields of the state that /appliances/<address> PATCH may overwrite directly.
_SCALARS = ("users_connected", "accepting_users", "version", "build", "inter_appliance_key", "shared_ips",
            "backup_password")
_MERGED = ("data", "settings")


class ControlApi:
    def __init__(self, world: World, info: Callable[[], dict[str, Any]], reset: Callable[[], Awaitable[None]],
                 on_certificates_changed: Callable[[Appliance], None],
                 on_settings_changed: Callable[[Appliance], None]) -> None:
        self.world = world
        self._info = info
        self._reset = reset
        self._certificates_changed = on_certificates_changed
        self._settings_changed = on_settings_changed
        # The simulated NAT device's table: "public:port" -> translation and its change history.
        self.nat: dict[str, dict[str, Any]] = {}

    async def handle(self, request: Request) -> Response:
        try:
            return await self._route(request)
        except (KeyError, LookupError) as exc:
            return Response.json({"error": str(exc).strip("'\"")}, 404)
        except (ValueError, FaultError, TypeError) as exc:
            return Response.json({"error": str(exc)}, 400)

    async def _route(self, request: Request) -> Response:
        method, path = request.method, request.path.rstrip("/") or "/"
        if path == "/health" and method == "GET":
            return Response.json({"ready": True, **self._info()})
        if path == "/appliances" and method == "GET":
            return Response.json([
                {"name": a.name, "address": a.address, "hostname": a.hostname, "role": a.role,
                 "faults": sorted(a.faults), "enabled_shared_ips": sorted(a.enabled_shared_ips)}
                for a in self.world.appliances.values()
            ])
        if path == "/faults" and method == "DELETE":
            self.world.clear_all_faults()
            return Response.json({"cleared": True})
        if path == "/reset" and method == "POST":
            await self._reset()
            self.nat.clear()
            return Response.json({"reset": True})
        if path == "/cuts" and method == "GET":
            return Response.json(self.world.cut_sources)
        match = _CUT.match(path)
        if match:
            source = str(ipaddress.ip_address(match["source"]))
            if method == "PUT":  # body: {"silent": bool}
                self.world.cut_sources[source] = bool((request.json() or {}).get("silent", False))
            elif method == "DELETE":
                self.world.cut_sources.pop(source, None)
            else:
                return Response.json({"error": f"no route for {method} {path}"}, 404)
            return Response.json(self.world.cut_sources)
        match = _APPLIANCE.match(path)
        if match:
            return self._appliance(self.world.get(match["address"]), method, match["rest"] or "", request)
        if path == "/nat" and method == "GET":
            return Response.json(list(self.nat.values()))
        match = _NAT.match(path)
        if match:
            return self._nat(f"{match['public']}:{match['port']}", method, request)
        return Response.json({"error": f"no route for {method} {path}"}, 404)

    def _appliance(self, appliance: Appliance, method: str, rest: str, request: Request) -> Response:
        if rest == "" and method == "GET":
            return Response.json(appliance.snapshot())
        if rest == "" and method == "PATCH":
            self._patch(appliance, request.json())
            return Response.json(appliance.snapshot())
        if rest == "/faults" and method == "POST":
            body = request.json()
            self.world.set_fault(appliance, body["fault"], body.get("params"))
            return Response.json({"faults": appliance.faults})
        if rest == "/faults" and method == "DELETE":
            self.world.clear_fault(appliance)
            return Response.json({"faults": appliance.faults})
        if rest.startswith("/faults/") and method == "DELETE":
            self.world.clear_fault(appliance, rest.removeprefix("/faults/"))
            return Response.json({"faults": appliance.faults})
        if rest == "/certificate" and method == "POST":
            return self._replace_certificate(appliance, request.json())
        if rest == "/tokens" and method == "DELETE":
            appliance.accounts.expire_all()
            return Response.json({"expired": True})
        return Response.json({"error": f"no route for {method} /appliances/{appliance.address}{rest}"}, 404)

    def _nat(self, key: str, method: str, request: Request) -> Response:
        """A NAT device's translation of one public address:port, as the portal's NAT swing driver expects it."""
        if method == "GET":
            if key not in self.nat:
                raise KeyError(f"no translation for {key}")
            return Response.json(self.nat[key])
        if method == "PUT":
            body = request.json()
            if not isinstance(body, dict):
                raise ValueError("give {\"target_address\": ..., \"target_port\": ...}")
            target = str(ipaddress.ip_address(body.get("target_address")))
            port = int(body.get("target_port"))
            if not 0 < port < 65536:
                raise ValueError("target_port must be between 1 and 65535")
            entry = self.nat.setdefault(key, {"public": key, "history": []})
            entry.update(target_address=target, target_port=port)
            entry["history"].append({"ts": time.time(), "target": f"{target}:{port}"})
            return Response.json(entry)
        if method == "DELETE":
            self.nat.pop(key, None)
            return Response.json({"deleted": key})
        return Response.json({"error": f"no route for {method} /nat/{key}"}, 404)

    def _patch(self, appliance: Appliance, body: dict[str, Any]) -> None:
        unknown = set(body) - {*_SCALARS, *_MERGED, "role", "peer_address", "profile"}
        if unknown:
            raise ValueError(f"cannot set {sorted(unknown)}")
        if "profile" in body:
            if body["profile"] not in PROFILES:
                raise ValueError(f"profile must be one of {PROFILES}")
            appliance.profile = body["profile"]
        for key in _SCALARS:
            if key in body:
                setattr(appliance, key, body[key])
        for key in _MERGED:
            if key in body:
                setattr(appliance, key, {**getattr(appliance, key), **body[key]})
        if "peer_address" in body:
            if body["peer_address"] is not None:
                self.world.get(body["peer_address"])
            appliance.peer_address = body["peer_address"]
        if "role" in body:
            if body["role"] not in ROLES:
                raise ValueError(f"role must be one of {ROLES}")
            appliance.set_role(body["role"], "control API")
        self._settings_changed(appliance)

    def _replace_certificate(self, appliance: Appliance, body: dict[str, Any]) -> Response:
        """Replace the default (no-SNI) certificate, as an administrator would on the appliance."""
        self.world.ensure_certificate(appliance)
        cert = load_imported(body.get("id") or f"control-{len(appliance.certificates)}",
                             body.get("friendly_name", "replaced by control API"),
                             body["certificate"], body["private_key"], body.get("chain", ""))
        appliance.certificates.append(cert)
        appliance.default_certificate_id = cert.id
        self._certificates_changed(appliance)
        return Response.json({"id": cert.id, "sha256_fingerprint": cert.fingerprint})
