"""Proof that a role change took effect on the network: one member primary, the other not, and the site's traffic
reaching the primary (read back through the pair's swing driver). Used by automatic failover and the runbooks."""

from __future__ import annotations

from appliances.models import FailoverRole

from ..swing import SwingConflict, SwingError, driver_for
from .engine import Context, StepFailed
from .roles import describe, read_role


def serving_verified(context: Context, primary, other, *, other_must_be: str | None = None) -> str | None:
    """A detail once ``primary`` is primary, ``other`` is not (or is ``other_must_be``) and the traffic reaches
    ``primary``; None meanwhile (progress is reported on the step). Two members reached at once fails the step."""
    mine, theirs = read_role(context, primary), read_role(context, other)
    expected = theirs.role == other_must_be if other_must_be else theirs.role != FailoverRole.PRIMARY
    if mine.role != FailoverRole.PRIMARY or not expected:
        context.heartbeat(f"Waiting: {describe((mine, theirs))}")
        return None
    try:
        serving = driver_for(context.pair).currently_serving(context.pair)
    except SwingConflict as exc:
        raise StepFailed(str(exc)) from exc
    except SwingError as exc:
        context.heartbeat(f"Reading the traffic's destination: {exc}")
        return None
    if serving is None or serving.pk != primary.pk:
        context.heartbeat(f"The site reaches {serving.name if serving else 'neither member'} so far.")
        return None
    return f"{describe((mine, theirs))}; the site's traffic reaches {primary.name}"
