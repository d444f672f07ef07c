"""The appliance-facing HTTP API: OAuth token endpoint, /api/command, /api/backup, /check_health.

Extension actions (not in the vendor API) all start with ``x_`` so a client can never mistake
them for vendor behaviour; x_get_capabilities lists them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from . import backupfile, faults, xmlrender
from .appliance import Appliance, iso
from .auth import TOKEN_LIFETIME, Account
from .failover import FailoverEngine, FailoverError
from .fleet import NETWORK_METHODS
from .httpio import Request, Response
from .pki import load_imported
from .world import World

Handler = Callable[[Appliance, Account, dict[str, str]], Awaitable[bytes]]
READ, FULL = "read", "full"


class ApplianceApi:
    def __init__(self, world: World, engine: FailoverEngine, port: int,
                 on_certificates_changed: Callable[[Appliance], None]) -> None:
        self.world = world
        self.engine = engine
        self.port = port
        self._certificates_changed = on_certificates_changed
        self.actions: dict[str, tuple[Handler, str]] = {
            "check_health": (self._check_health, READ),
            "get_api_info": (self._get_api_info, READ),
            "get_appliances": (self._get_appliances, READ),
            "set_failover_role": (self._set_failover_role, FULL),
            "x_get_capabilities": (self._x_get_capabilities, READ),
            "x_establish_relationship": (self._x_establish_relationship, FULL),
            "x_break_relationship": (self._x_break_relationship, FULL),
            "x_sync_now": (self._x_sync_now, FULL),
            "x_get_sync_status": (self._x_get_sync_status, READ),
            "x_get_backup_settings": (self._x_get_backup_settings, READ),
            "x_set_backup_settings": (self._x_set_backup_settings, FULL),
            "x_set_shared_ips": (self._x_set_shared_ips, FULL),
            "x_get_key_fingerprint": (self._x_get_key_fingerprint, READ),
            "x_get_certificates": (self._x_get_certificates, READ),
            "x_import_certificate": (self._x_import_certificate, FULL),
            "x_set_default_certificate": (self._x_set_default_certificate, FULL),
        }

    async def handle(self, appliance: Appliance, request: Request) -> Response:
        if request.path == "/oauth2/token":
            return self._token(appliance, request)
        if request.path == "/check_health":
            return self._plain_health(appliance, request)
        if request.path == "/api/command":
            return self._apply_content_faults(appliance, await self._command(appliance, request))
        if request.path == "/api/backup":
            return self._backup(appliance, request)
        return Response(404, xmlrender.error("Document Not Found", xmlrender.namespace_of(appliance)))

    # -- OAuth ---------------------------------------------------------------------------------

    def _token(self, appliance: Appliance, request: Request) -> Response:
        if request.method != "POST":
            return Response.json({"error": "invalid_request", "message": "Use POST"}, 405)
        account = appliance.accounts.authenticate_basic(request.headers.get("authorization"))
        if account is None:
            return Response.json({"error": "invalid_client", "message": "Invalid client credentials"}, 401)
        if request.form.get("grant_type") != "client_credentials":
            return Response.json({"error": "unsupported_grant_type",
                                  "message": "Only grant_type=client_credentials is supported"}, 400)
        token = appliance.accounts.issue(account)
        return Response.json({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME})

    def _authorise(self, appliance: Appliance, request: Request) -> Account | Response:
        account = appliance.accounts.bearer(request.headers.get("authorization"))
        if account is None:
            return Response(401, xmlrender.error("Invalid or expired access token.", xmlrender.namespace_of(appliance)),
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return account

    # -- health --------------------------------------------------------------------------------

    def health(self, appliance: Appliance) -> tuple[bool, str | None]:
        unhealthy = appliance.faults.get("unhealthy")
        if unhealthy:
            return False, unhealthy["message"]
        if self.engine.conflict(appliance):
            return False, "Failover conflict: the peer site instance is also primary."
        return True, None

    def _plain_health(self, appliance: Appliance, request: Request) -> Response:
        ok, _ = self.health(appliance)
        # The vendor's probe answers only a short pass/fail text; the status code carries the result.
        return Response.text("Health check passed\n" if ok else "Health check failed\n", 200 if ok else 500)

    # -- /api/command --------------------------------------------------------------------------

    def offers(self, appliance: Appliance, action: str) -> bool:
        """A vendor-profile appliance knows the vendor's actions only: an x_ action is as unknown as a typo."""
        return action in self.actions and not (appliance.vendor_only and action.startswith("x_"))

    async def _command(self, appliance: Appliance, request: Request) -> Response:
        namespace = xmlrender.namespace_of(appliance)
        if request.method not in ("GET", "POST"):
            return Response(405, xmlrender.error("Only GET and POST are supported.", namespace))
        if request.method == "POST" and request.headers.get("content-type", "").startswith("multipart/"):
            return Response(200, xmlrender.error("multipart/form-data is not accepted; use form encoding.", namespace))
        account = self._authorise(appliance, request)
        if isinstance(account, Response):
            return account
        params = request.form
        action = params.get("action", "")
        if not self.offers(appliance, action):
            return Response(200, xmlrender.error(f"Invalid action: '{action}'." if action else "Missing action.",
                                                 namespace))
        handler, needed = self.actions[action]
        if account.perm_command == "deny" or (needed == FULL and account.perm_command != "full_access"):
            return Response(200, xmlrender.error(
                "Access denied: the API account lacks the permission for this action.", namespace))
        try:
            return Response(200, await handler(appliance, account, params))
        except (FailoverError, ValueError) as exc:
            return Response(200, xmlrender.error(str(exc), namespace))

    async def _check_health(self, appliance, account, params) -> bytes:
        ok, message = self.health(appliance)
        return xmlrender.health_check(appliance, ok, message)

    async def _get_api_info(self, appliance, account, params) -> bytes:
        return xmlrender.api_info(appliance, account.perm_command, account.perm_backup)

    async def _get_appliances(self, appliance, account, params) -> bytes:
        peer = self.world.peer(appliance)
        return xmlrender.appliances([appliance, *([peer] if peer else [])], xmlrender.namespace_of(appliance))

    async def _set_failover_role(self, appliance, account, params) -> bytes:
        message = await self.engine.set_role(
            appliance, params.get("role", ""), _flag(params, "data_sync_first"), _flag(params, "force")
        )
        return xmlrender.success("set_failover_role", message, xmlrender.namespace_of(appliance))

    # -- extension actions ---------------------------------------------------------------------

    async def _x_get_capabilities(self, appliance, account, params) -> bytes:
        extensions = sorted(a for a in self.actions if a.startswith("x_") and self.offers(appliance, a))
        return xmlrender.record("capabilities", {
            "simulator": True,
            "extension_actions": ("action", extensions),
            "faults": ("fault", list(faults.FAULTS)),
        })

    async def _x_establish_relationship(self, appliance, account, params) -> bytes:
        method = params.get("network_method", "shared_ip")
        if method not in NETWORK_METHODS:
            raise ValueError(f"Invalid network_method; valid: {', '.join(NETWORK_METHODS)}.")
        for key in ("backup_host", "reverse_host"):
            if not params.get(key):
                raise ValueError(f"Missing required parameter: {key}.")
        backup = self.engine.establish(
            appliance, params["backup_host"], _int(params, "backup_port", self.port),
            params["reverse_host"], _int(params, "reverse_port", self.port), method, self.port,
        )
        return xmlrender.success("x_establish_relationship",
                                 f"Failover relationship established with {backup.hostname}.")

    async def _x_break_relationship(self, appliance, account, params) -> bytes:
        self.engine.break_relationship(appliance)
        return xmlrender.success("x_break_relationship", "Failover relationship broken.")

    async def _x_sync_now(self, appliance, account, params) -> bytes:
        self.engine.sync_now(appliance)
        return xmlrender.success("x_sync_now", "Data sync started.")

    async def _x_get_sync_status(self, appliance, account, params) -> bytes:
        peer = self.world.peer(appliance)
        last = appliance.last_sync
        return xmlrender.record("sync_status", {
            "failover_role": appliance.role,
            "peer": None if peer is None else {
                "hostname": peer.hostname, "address": peer.address,
                "reachable": self.world.can_reach(appliance, peer),
            },
            "network_method": (appliance.relationship or {}).get("network_method"),
            "sync_in_progress": appliance.sync_in_progress,
            "operation_in_progress": appliance.busy or "",
            "users_connected": appliance.users_connected,
            "last_data_sync_time": iso(last.finished) if last and last.finished else None,
            "last_data_sync_status": last.status if last else None,
            "history": ("sync", [_sync_entry(r) for r in reversed(appliance.sync_history)]),
        })

    async def _x_get_backup_settings(self, appliance, account, params) -> bytes:
        settings = dict(appliance.settings)
        settings["connectivity_test_ips"] = ("ip", list(settings.get("connectivity_test_ips") or []))
        return xmlrender.record("backup_settings", settings)

    async def _x_set_backup_settings(self, appliance, account, params) -> bytes:
        settings = dict(appliance.settings)
        for key in ("enable_backup_operations", "automatic_failover"):
            if key in params:
                settings[key] = _flag(params, key)
        for key in ("primary_timeout", "sync_interval", "bandwidth_limit"):
            if key in params:
                value = _int(params, key, 0)
                if value < 0:
                    raise ValueError(f"{key} must not be negative.")
                settings[key] = value
        if "connectivity_test_ips" in params:
            settings["connectivity_test_ips"] = _ip_list(params["connectivity_test_ips"])
        appliance.settings = settings
        self.engine.settings_changed(appliance)
        return await self._x_get_backup_settings(appliance, account, params)

    async def _x_set_shared_ips(self, appliance, account, params) -> bytes:
        # Per-site setting: the guide asks administrators to mirror it on the peer by hand.
        appliance.shared_ips = _ip_list(params.get("ips", ""))
        self.world.changed(appliance)
        return xmlrender.success("x_set_shared_ips", "Shared IP addresses saved.")

    async def _x_get_key_fingerprint(self, appliance, account, params) -> bytes:
        return xmlrender.record("inter_appliance_key", {"algorithm": "sha256", "fingerprint": appliance.key_fingerprint})

    async def _x_get_certificates(self, appliance, account, params) -> bytes:
        self.world.ensure_certificate(appliance)
        items = []
        for cert in appliance.certificates:
            info = cert.describe()
            info["names"] = ("name", info["names"])
            info["default"] = cert.id == appliance.default_certificate_id
            info["pem"] = cert.cert_pem
            items.append(info)
        return xmlrender.record("certificates", {"certificate_list": ("certificate", items)})

    async def _x_import_certificate(self, appliance, account, params) -> bytes:
        for key in ("certificate", "private_key"):
            if not params.get(key):
                raise ValueError(f"Missing required parameter: {key}.")
        self.world.ensure_certificate(appliance)
        cert = load_imported(uuid.uuid4().hex[:12], params.get("friendly_name", "imported"),
                             params["certificate"], params["private_key"], params.get("chain", ""))
        appliance.certificates.append(cert)
        if _flag(params, "make_default"):
            appliance.default_certificate_id = cert.id
        self._certificates_changed(appliance)
        return xmlrender.record("x_import_certificate", {"success": "Certificate imported.", "id": cert.id,
                                                         "sha256_fingerprint": cert.fingerprint})

    async def _x_set_default_certificate(self, appliance, account, params) -> bytes:
        self.world.ensure_certificate(appliance)
        cert_id = params.get("id", "")
        if appliance.certificate(cert_id) is None:
            raise ValueError(f"No certificate with id '{cert_id}'.")
        appliance.default_certificate_id = cert_id
        self._certificates_changed(appliance)
        return xmlrender.success("x_set_default_certificate", "Default certificate changed.")

    # -- /api/backup ---------------------------------------------------------------------------

    def _backup(self, appliance: Appliance, request: Request) -> Response:
        namespace = xmlrender.namespace_of(appliance)
        if request.method not in ("GET", "POST"):
            return Response(405, xmlrender.error("Only GET and POST are supported.", namespace))
        account = self._authorise(appliance, request)
        if isinstance(account, Response):
            return account
        if not account.perm_backup:
            return Response(403, xmlrender.error("Access denied: the API account lacks the backup permission.",
                                                 namespace))
        try:
            options = backupfile.request_options(request.query, request.body, request.headers.get("content-type", ""))
        except ValueError as exc:
            return Response(200, xmlrender.error(str(exc), namespace))
        if appliance.backup_password and options.password != appliance.backup_password:
            # A third-party script spotted a refused backup by this text in the body (reference notes §4.3).
            return Response(200, xmlrender.error("Invalid credentials: the backup password is missing or wrong.",
                                                 namespace))
        if appliance.vendor_only:
            blob, filename = backupfile.build_vendor(appliance, options), backupfile.vendor_filename(appliance)
        else:
            blob, filename = backupfile.build(appliance, options), f"{appliance.hostname}-{appliance.version}.nsb"
        return Response(200, blob, "application/octet-stream",
                        {"Content-Disposition": f'attachment; filename="{filename}"'})

    # -- content faults ------------------------------------------------------------------------

    @staticmethod
    def _apply_content_faults(appliance: Appliance, response: Response) -> Response:
        active = appliance.faults
        if "oversized" in active:
            return Response(200, stream=faults.oversized_chunks(float(active["oversized"]["mb"])))
        if "xml_bomb" in active:
            return Response(200, faults.XML_BOMB)
        if "external_entity" in active:
            return Response(200, faults.EXTERNAL_ENTITY)
        if "wrong_content_type" in active:
            return Response(200, faults.HTML_PAGE, "text/html; charset=UTF-8")
        if "malformed" in active:
            return Response(response.status, faults.malformed(response.body, active["malformed"]["mode"]))
        return response


def _flag(params: dict[str, str], key: str) -> bool:
    return params.get(key, "0").strip().lower() in ("1", "true", "yes", "on")


def _int(params: dict[str, str], key: str, default: int) -> int:
    raw = params.get(key, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{key} must be an integer.") from None


def _ip_list(raw: str) -> list[str]:
    return [ip.strip() for ip in raw.replace(";", ",").split(",") if ip.strip()]


def _sync_entry(record) -> dict[str, Any]:
    entry = asdict(record)
    entry["started"] = iso(record.started)
    entry["finished"] = iso(record.finished) if record.finished else None
    return entry
