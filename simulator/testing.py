"""Run the simulator as a real child process for tests (no Django, no in-process shortcuts).

    with SimulatorProcess(organisations=1, pairs_per_org=2, time_scale=0.01) as sim:
        sim.set_fault("127.1.0.1", "down")
        assert sim.state("127.1.0.2")["role"] == "backup"
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import defusedxml.ElementTree as SafeElementTree

from .fleet import generate_fleet, load_fleet, write_fleet

STARTUP_TIMEOUT = 60.0


class SimulatorError(RuntimeError):
    pass


def free_port() -> int:
    """A port free on the loopback wildcard; appliances bind the same number on 127.x addresses."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SimulatorProcess:
    def __init__(self, fleet: dict[str, Any] | str | Path | None = None, *, organisations: int = 1,
                 pairs_per_org: int = 2, singles: int = 1, time_scale: float = 0.01,
                 settings: dict[str, Any] | None = None, simulator: dict[str, Any] | None = None,
                 http: bool = False,
                 state_dir: str | Path | None = None, vendor_pairs_per_org: int = 0,
                 vendor_singles_per_org: int = 0) -> None:
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="simulator-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if fleet is None:
            fleet = generate_fleet(organisations, pairs_per_org, singles, settings=settings,
                                   simulator={"time_scale": time_scale, **(simulator or {})},
                                   vendor_pairs_per_org=vendor_pairs_per_org,
                                   vendor_singles_per_org=vendor_singles_per_org)
        self.fleet_path = self.state_dir / "fleet.json"
        write_fleet(fleet if isinstance(fleet, dict) else load_fleet(fleet), self.fleet_path)
        self.fleet: dict[str, Any] = load_fleet(self.fleet_path)
        self.http = http
        self.port = 0
        self.control_port = 0
        self._process: subprocess.Popen | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SimulatorProcess:
        for _attempt in range(3):  # a "free" port can be taken between probing and binding
            self.port, self.control_port = free_port(), free_port()
            if self._launch():
                return self
        raise SimulatorError(f"simulator did not start; see {self.state_dir / 'simulator.log'}")

    def _launch(self) -> bool:
        ready = self.state_dir / "ready.json"
        ready.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "simulator", "serve", "--fleet", str(self.fleet_path),
               "--state-dir", str(self.state_dir), "--port", str(self.port),
               "--control-port", str(self.control_port)]
        if self.http:
            cmd.append("--http")
        log = open(self.state_dir / "simulator.log", "ab")  # noqa: SIM115 - lives as long as the child
        package_root = Path(__file__).resolve().parent.parent
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(package_root),
                                                                          os.environ.get("PYTHONPATH")]))}
        # Fixed argv built from our own values, no shell.
        self._process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: S603
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if ready.exists():
                return True
            if self._process.poll() is not None:
                return False
            time.sleep(0.05)
        self.stop()
        raise SimulatorError("simulator did not become ready in time")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def ca_path(self) -> Path:
        return self.state_dir / "ca.pem"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    def base_url(self, address: str) -> str:
        return f"{'http' if self.http else 'https'}://{address}:{self.port}"

    def appliances(self) -> list[dict[str, Any]]:
        return [a for org in self.fleet["organisations"] for a in org["appliances"]]

    def appliance(self, name_or_address: str) -> dict[str, Any]:
        for appliance in self.appliances():
            if name_or_address in (appliance["name"], appliance["address"], appliance["hostname"]):
                return appliance
        raise KeyError(name_or_address)

    def pairs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(primary, backup) fleet entries of every pair."""
        out = []
        for org in self.fleet["organisations"]:
            by_name = {a["name"]: a for a in org["appliances"]}
            out += [(by_name[p["primary"]], by_name[p["backup"]]) for p in org.get("pairs", [])]
        return out

    # -- control API ---------------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.control_url + path, data=data, method=method,  # noqa: S310
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise SimulatorError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None

    def set_fault(self, address: str, fault: str, **params: Any) -> dict[str, Any]:
        return self.control("POST", f"/appliances/{address}/faults", {"fault": fault, "params": params})

    def clear_fault(self, address: str, fault: str | None = None) -> None:
        self.control("DELETE", f"/appliances/{address}/faults" + (f"/{fault}" if fault else ""))

    def cut_source(self, source: str, *, silent: bool = False) -> None:
        """Cut a client source address (a probe location) off from every appliance."""
        self.control("PUT", f"/cuts/{source}", {"silent": silent})

    def restore_source(self, source: str) -> None:
        self.control("DELETE", f"/cuts/{source}")

    def clear_faults(self) -> None:
        self.control("DELETE", "/faults")

    def state(self, address: str) -> dict[str, Any]:
        return self.control("GET", f"/appliances/{address}")

    def set_state(self, address: str, **fields: Any) -> dict[str, Any]:
        return self.control("PATCH", f"/appliances/{address}", fields)

    def set_profile(self, profile: str, addresses: list[str] | None = None) -> None:
        """Switch appliances (default: all) to the ``vendor`` or ``extended`` profile until the next reset."""
        for address in addresses if addresses is not None else [a["address"] for a in self.appliances()]:
            self.set_state(address, profile=profile)

    def replace_certificate(self, address: str, certificate: str, private_key: str, chain: str = "") -> dict:
        return self.control("POST", f"/appliances/{address}/certificate",
                            {"certificate": certificate, "private_key": private_key, "chain": chain})

    def reset(self) -> None:
        self.control("POST", "/reset")

    # -- simulated NAT device (served by the control server) ------------------------------------

    @property
    def nat_device_url(self) -> str:
        return self.control_url

    def nat(self, public: str) -> dict[str, Any]:
        """The translation of ``public`` ("address:port"): target_address, target_port, history."""
        return self.control("GET", f"/nat/{public}")

    def set_nat(self, public: str, target_address: str, target_port: int) -> dict[str, Any]:
        return self.control("PUT", f"/nat/{public}", {"target_address": target_address, "target_port": target_port})

    def wait_for(self, predicate, timeout: float = 10.0, interval: float = 0.02) -> Any:
        """Poll ``predicate()`` until it returns something truthy; return that value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            time.sleep(interval)


class ApplianceClient:
    """Minimal client of one simulated appliance over a real TLS socket, as a portal would call it.

    Connects to the appliance's address; ``server_name`` sets the SNI (default: the hostname,
    so the request also checks that the certificate covers it; pass ``""`` to send no SNI).
    """

    def __init__(self, sim: SimulatorProcess, appliance: str, *, account: str = "full",
                 server_name: str | None = None, timeout: float = 5.0, cafile: str | Path | None = None) -> None:
        self.sim = sim
        self.spec = sim.appliance(appliance)
        self.address = self.spec["address"]
        self.server_name = self.spec["hostname"] if server_name is None else server_name
        if account == "full":
            self.client_id, self.client_secret = self.spec["client_id"], self.spec["client_secret"]
        else:
            extra = next(a for a in self.spec["extra_accounts"] if a["perm_command"] == account)
            self.client_id, self.client_secret = extra["client_id"], extra["client_secret"]
        self.timeout = timeout
        self.cafile = str(cafile or sim.ca_path)
        self._token: str | None = None

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                form: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                context=None, json_body: Any = None):
        """Return (status, headers, body bytes). One fresh connection per call, as the vendor asks."""
        raw = socket.create_connection((self.address, self.sim.port), timeout=self.timeout)
        # As curl does; otherwise Nagle holds the request ~40 ms behind the TLS Finished message.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.sim.http:
            sock = raw
        else:
            sock = (context or self.ssl_context()).wrap_socket(raw, server_hostname=self.server_name or self.address)
        conn = http.client.HTTPConnection(self.address, self.sim.port, timeout=self.timeout)
        conn.sock = sock
        headers = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body)
            headers["Content-Type"] = "application/json"
        target = path + ("?" + urlencode(params) if params else "")
        try:
            conn.request(method, target, body=body, headers={"Host": self.server_name or self.address, **headers})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def token_response(self, client_id: str | None = None, client_secret: str | None = None):
        creds = f"{client_id or self.client_id}:{client_secret or self.client_secret}".encode()
        status, headers, body = self.request(
            "POST", "/oauth2/token", form={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + base64.b64encode(creds).decode()},
        )
        return status, json.loads(body)

    def token(self) -> str:
        if self._token is None:
            status, payload = self.token_response()
            if status != 200:
                raise SimulatorError(f"token request failed: {status} {payload}")
            self._token = payload["access_token"]
        return self._token

    def command(self, action: str, *, method: str = "GET", **params: Any):
        """Call /api/command; return the parsed XML root (namespace stripped from tags)."""
        args = {"action": action, **{k: v for k, v in params.items() if v is not None}}
        auth = {"Authorization": f"Bearer {self.token()}"}
        if method == "GET":
            status, _headers, body = self.request("GET", "/api/command", params=args, headers=auth)
        else:
            status, _headers, body = self.request("POST", "/api/command", form=args, headers=auth)
        root = SafeElementTree.fromstring(body)
        for element in root.iter():
            element.tag = element.tag.rpartition("}")[2]
        root.set("_status", str(status))
        return root


class Silence:
    """Addresses where a knock gets no answer at all, as from a host that is really gone (a loopback address
    with nothing bound *refuses*, which counts as an answer). Each is a listener whose accept queue is full, so
    the kernel drops further SYNs and a connect times out."""

    def __init__(self) -> None:
        self._sockets: list[socket.socket] = []

    def add(self, address: str, port: int) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((address, port))
        except OSError as exc:
            listener.close()
            raise OSError(exc.errno, f"cannot silence {address}:{port}: {exc.strerror}") from exc
        listener.listen(0)
        self._sockets.append(listener)
        for _ in range(2):  # the first fills the queue of one; the second stays half-open
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex((address, port))
            self._sockets.append(filler)
        time.sleep(0.02)

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
