"""Process wiring: one listening socket per appliance address, the control server, readiness file.

Measured choice (see docs/simulator.md): a listening socket per 127.x.y.z address costs ~3 KiB
and ~25 us each (10,000 in 0.24 s / 32 MiB), closing one gives a genuine "connection refused" for
the ``down`` fault (a single wildcard socket could only reset), and nothing listens outside
loopback. The price is one file descriptor per appliance, so RLIMIT_NOFILE is raised at startup.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import resource
import signal
import socket
import ssl
import time
from pathlib import Path
from typing import Any

from .api import ApplianceApi
from .appliance import Appliance
from .control import ControlApi
from .failover import FailoverEngine
from .httpio import BadRequest, Response, read_request, write_response
from .pki import CertificateAuthority
from .tls import TlsContexts
from .world import World

log = logging.getLogger("simulator")

HANDSHAKE_TIMEOUT = 15.0
HANG_LIMIT = 3600.0
FD_HEADROOM = 1024  # descriptors kept for client connections, the control port and files
LISTEN_BACKLOG = 64


class Simulator:
    def __init__(self, fleet: dict[str, Any], state_dir: Path, port: int = 8443, control_port: int = 8099,
                 use_tls: bool = True) -> None:
        self.fleet = fleet
        self.state_dir = Path(state_dir)
        self.port = port
        self.control_port = control_port
        self.use_tls = use_tls
        self._servers: dict[str, asyncio.AbstractServer] = {}
        self._opening: set[str] = set()
        self._reopening: set[asyncio.Task] = set()  # listeners being reopened after a fault was cleared
        self._control: asyncio.AbstractServer | None = None
        self._stopped = asyncio.Event()
        self.started_at = 0.0

    # -- startup / shutdown --------------------------------------------------------------------

    async def start(self) -> None:
        t0 = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        appliance_count = sum(len(o.get("appliances", [])) for o in self.fleet["organisations"])
        _raise_fd_limit(appliance_count + FD_HEADROOM)
        ca = CertificateAuthority.load_or_create(self.state_dir, "ca", "Failover Portal Simulator CA")
        self.world = World(self.fleet, ca, self._rogue_ca)
        self.engine = FailoverEngine(self.world)
        self.tls = TlsContexts(self.world.served_certificate, self.world.get)
        self.api = ApplianceApi(self.world, self.engine, self.port, self._certificates_changed)
        self.control = ControlApi(self.world, self.info, self.reset, self._certificates_changed,
                                  self.engine.settings_changed)
        self.world.subscribe(self._sync_listener)
        for appliance in self.world.appliances.values():
            self._servers[appliance.address] = await self._listen(appliance.address)
        self._control = await asyncio.start_server(self._on_control, "127.0.0.1", self.control_port)
        self.control_port = self._control.sockets[0].getsockname()[1]
        self.engine.start()
        self.started_at = time.monotonic() - t0
        self._write_ready_file()
        log.info("serving %d appliances on port %d (control %d) after %.2fs",
                 len(self.world.appliances), self.port, self.control_port, self.started_at)

    async def serve_forever(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopped.set)
        await self._stopped.wait()
        await self.stop()

    async def stop(self) -> None:
        self.engine.reset()
        servers = [*self._servers.values(), *([self._control] if self._control else [])]
        for server in servers:
            server.close()
        self._servers.clear()
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / "ready.json").unlink()

    async def reset(self) -> None:
        """Back to the fleet file's state: faults cleared, roles/data/tokens/certificates rebuilt."""
        self.engine.reset()
        self.world.build()
        for appliance in self.world.appliances.values():
            self.tls.forget(appliance)
            self._sync_listener(appliance)
        self.engine.start()

    def info(self) -> dict[str, Any]:
        return {"appliances": len(self.world.appliances), "port": self.port, "control_port": self.control_port,
                "tls": self.use_tls, "ca_path": str(self.state_dir / "ca.pem"), "pid": os.getpid(),
                "startup_seconds": round(self.started_at, 3),
                "time_scale": self.world.clock.time_scale}

    def _write_ready_file(self) -> None:
        # Written last and renamed into place, so a reader never sees a half-written file.
        tmp = self.state_dir / "ready.json.tmp"
        tmp.write_text(json.dumps(self.info()))
        tmp.replace(self.state_dir / "ready.json")

    def _rogue_ca(self) -> CertificateAuthority:
        return CertificateAuthority.load_or_create(self.state_dir, "changed-ca", "Unexpected Other CA")

    def _certificates_changed(self, appliance: Appliance) -> None:
        self.tls.forget(appliance)

    # -- listeners -----------------------------------------------------------------------------

    async def _listen(self, address: str) -> asyncio.AbstractServer:
        # proto must say TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto is IPPROTO_TCP, and without it Nagle adds ~40 ms to every TLS answer.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, self.port))
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return await asyncio.start_server(
            lambda r, w, a=address: self._on_connection(a, r, w), sock=sock, start_serving=True
        )

    def _sync_listener(self, appliance: Appliance) -> None:
        """Close the listening socket while the appliance is down (connection refused), reopen after."""
        address = appliance.address
        down = self.world.is_down(appliance)
        if down and address in self._servers:
            self._servers.pop(address).close()
        elif not down and address not in self._servers and address not in self._opening:
            self._opening.add(address)
            task = asyncio.get_running_loop().create_task(self._reopen(address))
            self._reopening.add(task)
            task.add_done_callback(self._reopening.discard)

    async def _reopen(self, address: str) -> None:
        try:
            server = await self._listen(address)
            if self.world.is_down(self.world.get(address)):
                server.close()  # went down again while reopening
            else:
                self._servers[address] = server
        finally:
            self._opening.discard(address)

    # -- connections ---------------------------------------------------------------------------

    async def _on_connection(self, address: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        appliance = self.world.appliances.get(address)
        try:
            if appliance is None or self._flapped_down(appliance):
                writer.transport.abort()  # connection reset
                return
            peer = writer.get_extra_info("peername")
            cut = self.world.cut_off(appliance, peer[0]) if peer else None
            if cut is not None:
                if cut:
                    await _hold(reader)
                else:
                    writer.transport.abort()
                return
            hang = appliance.faults.get("hang")
            if hang and hang["handshake"]:
                await _hold(reader)
                return
            if self.use_tls:
                await writer.start_tls(self.tls.initial_context(appliance), ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
            try:
                request = await read_request(reader)
            except BadRequest as exc:
                await write_response(writer, Response.text(f"Bad request: {exc}\n", 400))
                return
            if request is None:
                return
            if "hang" in appliance.faults:
                await _hold(reader)
                return
            slow = appliance.faults.get("slow")
            if slow:
                await asyncio.sleep(float(slow["ms"]) / 1000)
            await write_response(writer, await self.api.handle(appliance, request))
        except (ConnectionError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError, OSError):
            pass  # clients that hang up or reject our certificate are part of the job
        except Exception:
            log.exception("error serving %s", address)
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    def _flapped_down(appliance: Appliance) -> bool:
        flapping = appliance.faults.get("flapping")
        if not flapping:
            return False
        period = float(flapping["period"])
        if period <= 0:
            appliance.flap_count += 1
            return appliance.flap_count % 2 == 1  # first connection after setting the fault fails
        elapsed = time.monotonic() - appliance.fault_since["flapping"]
        return int(elapsed / period) % 2 == 0

    async def _on_control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                request = await read_request(reader)
            except BadRequest as exc:
                await write_response(writer, Response.json({"error": str(exc)}, 400))
                return
            if request is not None:
                response = await self.control.handle(request)
                # A cleared fault is answered once the appliance listens again: a caller that probes right after
                # "bring it back" must not be refused by a socket still being reopened.
                while self._reopening:
                    await asyncio.gather(*list(self._reopening), return_exceptions=True)
                await write_response(writer, response)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("control API error")
            with contextlib.suppress(Exception):
                await write_response(writer, Response.json({"error": "internal error"}, 500))
        finally:
            with contextlib.suppress(Exception):
                writer.close()


async def _hold(reader: asyncio.StreamReader) -> None:
    """Keep the connection open without answering until the client gives up."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reader.read(), HANG_LIMIT)


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(f"need {needed} file descriptors but the hard limit is {hard}; raise `ulimit -Hn`")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def run(fleet: dict[str, Any], state_dir: Path, port: int, control_port: int, use_tls: bool) -> None:
    simulator = Simulator(fleet, state_dir, port, control_port, use_tls)
    await simulator.start()
    await simulator.serve_forever()
