"""The RMA procedure as rules: the steps in order, what each depends on and why, who may record it, and what a
case's status is given its steps. Pure functions over model instances (no writes), shared by the services, the
case page and the API."""

from dataclasses import dataclass

from portal.models import Role

from .models import RmaStatus, RmaStep, RmaStepKey, RmaStepState

K = RmaStepKey

# The seed's factory credentials; the portal reminds rather than repeats them in every page.
FACTORY_DEFAULT_LOGIN_REMINDER = (
    "A replacement ships with the factory default administrator login. Change that password at the first login, "
    "before the appliance is reachable from anywhere else."
)


@dataclass(frozen=True)
class StepRule:
    key: str
    depends_on: tuple[str, ...]
    why: str  # why the dependency exists, shown when the step is refused
    role: str = Role.OPERATOR
    hint: str = ""


STEP_RULES: dict[str, StepRule] = {
    K.RECEIVED: StepRule(K.RECEIVED, (), "", hint=FACTORY_DEFAULT_LOGIN_REMINDER),
    K.NETWORK: StepRule(
        K.NETWORK, (K.RECEIVED,), "the replacement must be received and its default password changed first",
        role=Role.ADMIN,
        hint="Enter the replacement's management address, trust and API account; the portal probes it.",
    ),
    K.CERTIFICATES: StepRule(
        K.CERTIFICATES, (K.NETWORK,), "certificates are imported over the replacement's configured network",
        hint="Import the primary's certificate chain on the replacement; the portal compares both sides.",
    ),
    K.REGISTERED: StepRule(
        K.REGISTERED, (K.NETWORK,), "the status details sent to the vendor come from the configured replacement",
        hint="Send the replacement's status details to the vendor's support; they build its software package.",
    ),
    K.FAILOVER: StepRule(
        K.FAILOVER, (K.CERTIFICATES, K.REGISTERED),
        "failover can only be restored once the certificates match and the vendor has registered the replacement",
        hint="Restore by the synchronous or asynchronous path (or with the original package), then re-establish.",
    ),
    K.SUPPORT_NOTIFIED: StepRule(
        K.SUPPORT_NOTIFIED, (K.FAILOVER,), "support is told the restore is complete only once failover works again",
        hint="Tell the vendor's support the restore is complete; they send the return label.",
    ),
    K.RETURNED: StepRule(
        K.RETURNED, (K.SUPPORT_NOTIFIED,), "the defective appliance is shipped with the vendor's return label",
        hint="Reset the defective appliance to factory defaults, shut it down, then ship it with the label.",
    ),
}
STEP_ORDER: list[str] = list(STEP_RULES)


def step_blockers(step: RmaStep, steps_by_key: dict[str, RmaStep]) -> list[str]:
    """Why ``step`` cannot be marked done now (empty when it can)."""
    rule = STEP_RULES[step.key]
    if step.case.status == RmaStatus.CLOSED:
        return ["The case is closed."]
    missing = [key for key in rule.depends_on if not steps_by_key[key].is_done]
    if not missing:
        return []
    names = ", ".join(f"“{RmaStepKey(key).label}”" for key in missing)
    return [f"Not yet: {names} must be done first ({rule.why})."]


def next_step(steps: list[RmaStep]) -> RmaStep | None:
    """The first step that is not done and not blocked: the case page shows it first."""
    by_key = {s.key: s for s in steps}
    for step in steps:
        if not step.is_done and not step_blockers(step, by_key):
            return step
    return None


def case_status(steps: list[RmaStep]) -> str:
    by_key = {s.key: s for s in steps}
    if by_key[K.RETURNED].is_done:
        return RmaStatus.CLOSED
    if any(s.state == RmaStepState.WAITING_VENDOR for s in steps):
        return RmaStatus.WAITING_VENDOR
    if all(s.state == RmaStepState.PENDING for s in steps):
        return RmaStatus.OPEN
    return RmaStatus.WAITING_US
