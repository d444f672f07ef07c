"""Does anything answer at an address? The one TCP "knock" the failover rules use, for proving a path works
(the standby's connectivity test IPs) and for proving an old primary silent (the shared IP, its site address).

Any answer counts: an accepted connection, and equally a refusal or a reset, since a host had to be there to
send it. Only silence (a timeout) or "no route / unreachable" counts as nobody there. No ICMP: the portal does
not run with raw sockets. Knocks run concurrently (non-blocking connects in one thread), under one overall time cap.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from collections.abc import Iterable

from django.conf import settings

#: The site's service port, knocked besides the appliance's management port.
SERVICE_PORT = 443

_ANSWER_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED}


def knock_timeout() -> float:
    return float(settings.FAILOVER_KNOCK_TIMEOUT)


ACCEPTED, REFUSED, SILENT = "accepted", "refused", "silent"


def knock_results(targets: Iterable[tuple[str, int]], *, timeout: float | None = None,
                  source: str | None = None) -> dict[tuple[str, int], str]:
    """Each target's outcome, all knocked at once under one overall cap (a late one is SILENT): ACCEPTED (a
    connection was accepted), REFUSED (refused or reset: a host replied, but nothing serves on that port) or SILENT
    (a timeout, no route: nobody there). ``source``: the local address to knock from (a probe location's own).

    Non-blocking connects watched by one selector in the calling thread: knocking a thousand pairs' addresses
    costs one timeout and no thread per address (a mass outage's evaluation, or a batch of fence knocks)."""
    targets = list(dict.fromkeys((str(a), int(p)) for a, p in targets))
    timeout = knock_timeout() if timeout is None else timeout
    outcomes = dict.fromkeys(targets, SILENT)
    pending: dict[socket.socket, tuple[str, int]] = {}
    selector = selectors.DefaultSelector()
    try:
        for target in targets:
            sock = _start_connect(target, source)
            if isinstance(sock, str):
                outcomes[target] = sock
                continue
            pending[sock] = target
            selector.register(sock, selectors.EVENT_WRITE)
        deadline = time.monotonic() + timeout
        while pending and (left := deadline - time.monotonic()) > 0:
            for key, _events in selector.select(left):
                sock = key.fileobj
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                outcomes[pending.pop(sock)] = _outcome(error)
                selector.unregister(sock)
                sock.close()
    finally:
        for sock in pending:  # still silent at the cap
            sock.close()
        selector.close()
    return outcomes


def _start_connect(target: tuple[str, int], source: str | None) -> socket.socket | str:
    """A socket whose connect to ``target`` is under way, or the outcome already known (e.g. no route)."""
    address, port = target
    try:
        info = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[0]
    except OSError:
        return SILENT  # no such name: nobody to answer
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if source:
            sock.bind((source, 0))
        error = sock.connect_ex(info[4])
    except OSError as exc:
        sock.close()
        return _outcome(exc.errno)
    if error in (errno.EINPROGRESS, errno.EWOULDBLOCK):
        return sock
    sock.close()
    return _outcome(error)


def _outcome(error: int) -> str:
    if error == 0:
        return ACCEPTED
    # ETIMEDOUT, EHOSTUNREACH, ENETUNREACH...: nobody answered.
    return REFUSED if error in _ANSWER_ERRNOS else SILENT


def service_targets(address: str, management_port: int) -> list[tuple[str, int]]:
    """The ports a site's primary serves on one address: the service port and the management port."""
    return [(str(address), SERVICE_PORT), (str(address), int(management_port))]


def answering(targets: Iterable[tuple[str, int]], *, timeout: float | None = None,
              source: str | None = None) -> set[tuple[str, int]]:
    """Which of the (address, port) targets answer, all knocked at once under one overall cap (for the beat
    task, which may have many pairs to look at and must not take one timeout per address). ``source``: the
    local address to knock from (a probe location's own address)."""
    return {target for target, outcome in knock_results(targets, timeout=timeout, source=source).items()
            if outcome != SILENT}
