"""What the portal's notifications know of a pair: its routing labels, and its state line in a message (the
state, since when, and what to do next). Registered in ``FailoverConfig.ready``."""

from portal.alerts import ObjectSummary

from .models import PairState

NEXT_ACTION = {
    PairState.PRIMARY_UNREACHABLE: "Watch the countdown on the pair page; if the backup does not take over, make it "
                                   "primary from the pair page.",
    PairState.CONFLICT: "Open the pair and use Fix this error: it shows which appliance holds the traffic first.",
    PairState.SYNC_STALE: "Check the backup's sync interval and the link between the two, or run Sync now.",
    PairState.DEGRADED: "Open the pair: its state reason names the member and the check that failed.",
    PairState.BROKEN: "Re-establish the pair from its page once both members answer.",
    PairState.NEVER_CHECKED: "Wait for the first probe, or check both members' addresses and credentials.",
}


def pair_labels(pair) -> dict:
    return {"pair": pair.site_hostname}


def pair_summary(pair) -> ObjectSummary:
    return ObjectSummary(state=pair.get_state_display() + (f" ({pair.state_reason})" if pair.state_reason else ""),
                         since=pair.state_since, next_action=NEXT_ACTION.get(pair.state, ""))
