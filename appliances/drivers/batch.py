"""Probe many appliances concurrently on one pycurl multi handle.

Each appliance runs the same ``Operations.check_health`` generator the synchronous client uses (token
fetch when the cache has none, 401 retry, parsing); this module only schedules their requests. One
appliance's failure never raises: its ``ProbeResult`` carries the typed error instead.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pycurl

from .client import ApplianceClient, annotate
from .errors import ApplianceError, ApplianceTimeout
from .models import ApplianceAddress, Credentials, HealthReport, Timeouts
from .operations import Done, Operation, advance
from .tokens import TokenCache, default_token_cache
from .transport import AddressGuard, Exchange, Request, Response
from .trust import TrustSettings

T = TypeVar("T")


@dataclass(frozen=True)
class ProbeTarget:
    address: ApplianceAddress
    credentials: Credentials
    trust: TrustSettings
    timeouts: Timeouts = field(default_factory=Timeouts)
    #: Opaque caller reference (e.g. the portal's appliance pk), handed back in the result.
    ref: Hashable = None
    #: The caller's outbound address policy (see Transport).
    address_guard: AddressGuard | None = None


@dataclass
class CallResult(Generic[T]):
    """One appliance's outcome in ``perform_many``: the operation's value, or its typed error."""

    value: T | None = None
    error: ApplianceError | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(kw_only=True)
class ProbeResult(CallResult[HealthReport]):
    """``probe_many``'s outcome for one target: a ``CallResult`` whose value is the health report."""

    target: ProbeTarget

    @property
    def health(self) -> HealthReport | None:
        return self.value


class _Job:
    """One appliance's operation in flight: its client, its operation generator and its current exchange."""

    def __init__(self, client: ApplianceClient, op: Operation[Any], action: str,
                 deadline_seconds: float | None) -> None:
        self.client = client
        self.op = op
        self.action = action  # names the call in an error that does not say which one failed
        self.result: CallResult[Any] = CallResult()
        self.done = False
        self.deadline_seconds = deadline_seconds
        self.deadline: float | None = None
        self.started = 0.0
        self.exchange: Exchange | None = None

    @property
    def token_key(self) -> str | None:
        return self.client.operations.token_key


def probe_many(
    targets: Iterable[ProbeTarget],
    *,
    concurrency: int = 64,
    timeout: float | None = None,
    token_cache: TokenCache | None = None,
    share_tls_sessions: bool = True,
    source_address: str | None = None,
) -> list[ProbeResult]:
    """``check_health`` on every target, at most ``concurrency`` transfers at once.

    ``timeout`` (seconds) bounds each appliance's whole probe (token fetch + health call); each request
    is also bounded by its target's own ``Timeouts``. Results come back in input order.
    ``share_tls_sessions=False`` forces full handshakes (only useful to measure what resumption saves).
    ``source_address``: the local address to connect from (a probe location bound to its own address).
    """
    # "is None", not "or": an empty InMemoryTokenCache is falsy (__len__), and len() walks every entry.
    cache = token_cache if token_cache is not None else default_token_cache()
    targets = list(targets)
    clients = [ApplianceClient(t.address, t.credentials, t.trust, timeouts=t.timeouts, token_cache=cache,
                               share_tls_sessions=share_tls_sessions, address_guard=t.address_guard,
                               source_address=source_address) for t in targets]
    results = perform_many([(client, client.operations.check_health()) for client in clients],
                           concurrency=concurrency, timeout=timeout, action="check_health")
    return [ProbeResult(target=target, value=result.value, error=result.error, elapsed_ms=result.elapsed_ms)
            for target, result in zip(targets, results, strict=True)]


def perform_many(calls: Iterable[tuple[ApplianceClient, Operation[T]]], *, concurrency: int = 64,
                 timeout: float | None = None, action: str = "") -> list[CallResult[T]]:
    """Run each operation (any sequence of calls to its client's appliance, e.g. a token, then two commands)
    to its end, at most ``concurrency`` transfers at once on one multi handle, in this thread. One
    appliance's failure never raises: its result carries the typed error. ``timeout`` (seconds) bounds each
    appliance's whole operation; each request is also bounded by its client's ``Timeouts``. Results come back
    in input order."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    jobs = [_Job(client, op, action, timeout) for client, op in calls]
    waiting = deque(jobs)
    # Two jobs sharing an API account on one appliance would both miss the token cache and fetch two
    # tokens (the cap is 30); run such jobs one after the other so the second finds the first one's token.
    # This also guarantees the per-key fetch lock (tokens.fetch_lock, held across the token request) is
    # never wanted twice inside this thread; another thread holding it delays us at most one token call.
    busy_keys: set[str] = set()
    active: dict[pycurl.Curl, _Job] = {}
    multi = pycurl.CurlMulti()

    def finish_job(job: _Job, step: Request | Done | ApplianceError) -> Request | None:
        """Record a finished job, or return the next request it wants."""
        if isinstance(step, Request):
            return step
        if isinstance(step, Done):
            job.result.value = step.value
        else:
            job.result.error = annotate(step, job.client.address, job.action)
        job.done = True
        job.result.elapsed_ms = (time.monotonic() - job.started) * 1000.0
        busy_keys.discard(job.token_key)
        return None

    def submit(job: _Job, request: Request | None) -> None:
        """Put the job's next request on a fresh easy handle (a handle is cheap next to a handshake,
        and a fresh one carries no state from the previous transfer)."""
        while request is not None:
            curl = pycurl.Curl()
            try:
                job.exchange = job.client.transport.configure(curl, request, job.deadline)
            except ApplianceError as error:  # deadline already passed
                curl.close()
                request = finish_job(job, _step(job.op, error=error))
                continue
            active[curl] = job
            multi.add_handle(curl)
            return

    def start_more() -> None:
        deferred = []
        while waiting and len(active) < concurrency:
            job = waiting.popleft()
            if job.token_key in busy_keys:
                deferred.append(job)
                continue
            busy_keys.add(job.token_key)
            job.started = time.monotonic()
            job.deadline = job.started + job.deadline_seconds if job.deadline_seconds else None
            submit(job, finish_job(job, _step(job.op)))
        waiting.extendleft(reversed(deferred))

    try:
        start_more()
        while active:
            while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                pass
            while True:
                queued, succeeded, failed = multi.info_read()
                done = [(c, None) for c in succeeded] + [(c, pycurl.error(code, msg)) for c, code, msg in failed]
                for curl, error in done:
                    multi.remove_handle(curl)
                    job = active.pop(curl)
                    assert job.exchange is not None
                    try:
                        response = job.exchange.finish(curl, error)
                    except ApplianceError as exc:
                        step = _step(job.op, error=exc)
                    else:
                        step = _step(job.op, response=response)
                    curl.close()
                    submit(job, finish_job(job, step))
                if not queued:
                    break
            start_more()
            if active:
                multi.select(0.5)
    finally:
        for curl in list(active):
            multi.remove_handle(curl)
            curl.close()
        for job in jobs:
            job.op.close()
        multi.close()
    for job in jobs:  # jobs never started (cannot happen unless interrupted) still get a result
        if not job.done:
            job.result.error = ApplianceTimeout(f"{job.action or 'call'} did not run", address=str(job.client.address))
    return [job.result for job in jobs]


def _step(op: Operation[Any], response: Response | None = None,
          error: ApplianceError | None = None) -> Request | Done | ApplianceError:
    """``advance`` that returns the operation's typed error instead of raising it."""
    try:
        return advance(op, response=response, error=error)
    except ApplianceError as exc:
        return exc
