"""Who hears that an appliance's facts changed (inventory fields, addresses, what it serves).

Apps above this one derive state from those facts (the failover app's best-practice findings); they register a
listener at startup (``AppConfig.ready``), so the writes here and in the certificates app call them without
importing them. A listener runs in the writer's transaction: what it derives commits or rolls back with the
change."""

from __future__ import annotations

from collections.abc import Callable, Iterable

_listeners: list[Callable[..., object]] = []


def register_appliance_listener(listener: Callable[..., object]) -> None:
    """``listener(appliance_ids=[...])``, called after a write to those appliances' facts."""
    if listener not in _listeners:
        _listeners.append(listener)


def appliances_changed(appliance_ids: Iterable[int]) -> None:
    ids = sorted({pk for pk in appliance_ids if pk is not None})
    if ids:
        for listener in _listeners:
            listener(appliance_ids=ids)
