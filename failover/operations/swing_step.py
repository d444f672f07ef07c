"""The one swing step every role change ends with (become primary/backup, Fix this error, automatic failover, and
the runbooks to come): point the site's traffic at the member that is primary now, by the pair's network method.

* Shared IP: verify the primary has the shared IP enabled and the other member does not (the appliances move
  it themselves with the role).
* DNS swing / NAT swing with access configured (TSIG key / NAT device URL): update the record or translation
  and read it back.
* DNS swing / NAT swing without access: a guided step that names the exact record or translation to change,
  verified by reading it (DNS answer, NAT mapping) where the portal can read it.

Why one step: manual role changes never moved DNS or NAT before (observation 6), and clients of a DNS or NAT
pair stayed pointed at the dead appliance with nothing telling the operator. The target is read live (the
member answering as primary), so the step is the same whoever changed the roles.
"""

from __future__ import annotations

from collections.abc import Callable

from ..swing import SwingConflict, SwingError, driver_for, site_address
from .engine import Context, Skipped, Step, StepFailed, Waiting
from .roles import describe, read_role


def has_swing_access(pair) -> bool:
    """Whether the portal can change the pair's DNS record or NAT translation itself."""
    if pair.network_method == "dns_swing":
        return bool(pair.dns_server and pair.dns_zone and pair.dns_tsig_key_name and pair.dns_tsig_secret)
    if pair.network_method == "nat_swing":
        return bool(pair.nat_device and pair.nat_public_address)
    return True


def _primary_now(context: Context):
    readings = [read_role(context, member) for member in context.pair.members]
    primaries = [member for member, reading in zip(context.pair.members, readings, strict=True)
                 if reading.role == "primary"]
    if len(primaries) == 2:
        raise StepFailed(f"Both members are primary ({describe(readings)}): the traffic cannot follow one of them. "
                         "Use Fix this error.")
    return (primaries[0] if primaries else None), readings


def guided_instructions(pair, primary) -> str:
    address = site_address(primary)
    if pair.network_method == "dns_swing":
        record_type = "AAAA" if ":" in address else "A"
        record = f"{pair.site_hostname}. {pair.dns_ttl} IN {record_type} {address}"
        server = f"{pair.dns_server or '?'} (zone {pair.dns_zone or '?'})"
        return (f"The portal has no DNS update key for this pair. On the DNS server {server}, make the site name's "
                f"record read “{record}” ({primary.name}) and remove any other address for the name. Then press "
                "“I did it”: the portal checks the DNS answer.")
    return (f"The portal has no access to the NAT device: translate {pair.nat_public_address}:{pair.nat_public_port} "
            f"to {address}:{primary.management_port} ({primary.name}). Then press “I did it”.")


def _serving_primary(context: Context):
    """The default target of a swing: whichever member answers as primary now (after the role change)."""
    if context.state.get("nothing_to_do") or context.state.get("no_conflict"):
        return Skipped("The roles did not change.")
    primary, readings = _primary_now(context)
    if primary is None:
        return Skipped(f"No member answers as primary ({describe(readings)}): there is nowhere to send the traffic.")
    return primary


def swing_step(name: str = "swing", description: str = "Point the site's traffic at the primary (shared IP, DNS or "
               "NAT)", *, to: Callable[[Context], object] = _serving_primary,
               on_arrival: Callable[[Context, object], None] | None = None) -> Step:
    """The one swing of every role change (manual, fix, automatic, runbooks): point the site's traffic at ``to``
    with the pair's network method and read it back; where the portal has no access to the DNS server or NAT
    device, a guided step naming the exact record, verified from the DNS answer / NAT mapping. ``to`` returns the
    target appliance or a ``Skipped``; ``on_arrival`` runs once the traffic is seen reaching the target (the
    runbooks record the role change's RTO there)."""
    target_key = f"{name}_target"

    def verify(context: Context) -> str | None:
        target = context.state.get(target_key)
        if target is None:
            return None
        try:
            serving = driver_for(context.pair).currently_serving(context.pair)
        except SwingError:
            return None
        if serving is None or serving.pk != target:
            return None
        if on_arrival is not None:
            on_arrival(context, serving)
        return f"The site's traffic reaches {serving.name}."

    def run(context: Context):
        pair = context.pair
        target = to(context)
        if isinstance(target, Skipped):
            return target
        context.remember(**{target_key: target.pk})
        if not has_swing_access(pair):
            already = verify(context)
            if already:
                return already
            try:
                return Waiting(guided_instructions(pair, target))
            except SwingError as exc:
                raise StepFailed(str(exc)) from exc
        try:
            detail = driver_for(pair).point_site_at(pair, target)
        except SwingConflict as exc:
            raise StepFailed(f"Two members would receive the site's traffic: {exc}") from exc
        except SwingError as exc:
            raise StepFailed(f"The site's traffic could not be pointed at {target.name}: {exc}") from exc
        if on_arrival is not None:
            on_arrival(context, target)
        return detail

    return Step(name, description, run, recheck=verify, verify=verify)
