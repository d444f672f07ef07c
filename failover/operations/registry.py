"""Which function plans which operation kind. The planners register themselves (``@planner(kind)``); the engine
reads them from here, so it imports no planner and the planners import the engine without a circle."""

from collections.abc import Callable

PLANNERS: dict[str, Callable] = {}


def planner(*kinds: str) -> Callable[[Callable], Callable]:
    def register(plan: Callable) -> Callable:
        for kind in kinds:
            PLANNERS[kind] = plan
        return plan

    return register


def supported_kinds() -> frozenset[str]:
    """The kinds a planner is registered for (all of them once ``failover.operations`` is imported)."""
    return frozenset(PLANNERS)


#: Called with the step context when an operation of the kind ends failed or cancelled by the engine (a failed
#: drill alerts). Registered like planners (``@on_failure(kind)``).
ON_FAILURE: dict[str, Callable] = {}


def on_failure(*kinds: str) -> Callable[[Callable], Callable]:
    def register(hook: Callable) -> Callable:
        for kind in kinds:
            ON_FAILURE[kind] = hook
        return hook

    return register
