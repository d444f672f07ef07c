"""A real authoritative DNS server for the DNS swing tests: Knot DNS (``knotd``, Debian package ``knot``) on
127.0.0.1 and a free port, with one temporary zone that accepts RFC 2136 updates signed with one TSIG key.

Everything lives in a temporary directory (configuration, zone file, journal database, control socket); the
server runs in the foreground as a child process and is stopped by ``stop()``.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import pytest

KNOTD = "/usr/sbin/knotd"
KEY_NAME = "portal-swing."
ALGORITHM = "hmac-sha256"


def _free_port() -> int:
    # Knot binds UDP and TCP: find a port free for both.
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for the DNS server")


class KnotServer:
    def __init__(self, zone: str, records: dict[str, str], ttl: int = 60) -> None:
        if not os.access(KNOTD, os.X_OK):
            pytest.fail("Knot DNS (knotd) is missing: run scripts/install-system-packages.sh")
        self.zone = zone.rstrip(".")
        self.records = records
        self.ttl = ttl
        self.secret = base64.b64encode(os.urandom(32)).decode()
        self.dir = Path(tempfile.mkdtemp(prefix="knot-"))
        self.port = 0
        self._process: subprocess.Popen | None = None

    def _write(self) -> Path:
        zone_lines = [f"$ORIGIN {self.zone}.", f"$TTL {self.ttl}",
                      f"@ SOA ns.{self.zone}. hostmaster.{self.zone}. 1 3600 600 86400 60",
                      f"@ NS ns.{self.zone}.", "ns A 127.0.0.1"]
        zone_lines += [f"{name} A {address}" for name, address in self.records.items()]
        (self.dir / "zone.db").write_text("\n".join(zone_lines) + "\n")
        config = self.dir / "knot.conf"
        config.write_text(f"""server:
    rundir: "{self.dir}"
    listen: 127.0.0.1@{self.port}
log:
  - target: stderr
    any: info
database:
    storage: "{self.dir}/db"
key:
  - id: {KEY_NAME}
    algorithm: {ALGORITHM}
    secret: {self.secret}
acl:
  - id: portal_update
    key: {KEY_NAME}
    action: update
zone:
  - domain: {self.zone}
    storage: "{self.dir}"
    file: "zone.db"
    acl: portal_update
    zonefile-sync: -1
    journal-content: none
""")
        return config

    def start(self) -> KnotServer:
        for _attempt in range(3):
            self.port = _free_port()
            config = self._write()
            log = open(self.dir / "knotd.log", "ab")  # noqa: SIM115 - lives as long as the child
            self._process = subprocess.Popen([KNOTD, "-c", str(config)], stdout=log,  # noqa: S603 - fixed argv
                                             stderr=subprocess.STDOUT)
            log.close()
            if self._wait_ready():
                return self
            self._kill()
        raise RuntimeError(f"knotd did not start: {(self.dir / 'knotd.log').read_text()[-2000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                answer = dns.query.tcp(dns.message.make_query(f"ns.{self.zone}", "A"), "127.0.0.1",
                                       port=self.port, timeout=0.5)
                if answer.answer:
                    return True
            except (OSError, dns.exception.DNSException):
                pass
            time.sleep(0.05)
        return False

    def _kill(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def stop(self) -> None:
        self._kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def addresses(self, name: str) -> set[str]:
        """What the server answers for ``name`` (A), asked over UDP as a resolver would."""
        answer = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=self.port, timeout=2)
        return {rdata.address for rrset in answer.answer if rrset.rdtype == dns.rdatatype.A for rdata in rrset}

    def log(self) -> str:
        return (self.dir / "knotd.log").read_text()
