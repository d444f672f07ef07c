"""Panels that apps above the portal add to pages below them (the fleet dashboard, the appliance page).

A lower app never imports an upper one: the upper app registers its panel at startup (``AppConfig.ready``) and
the page renders whatever is registered for its slot. Each panel reads through its own app's selectors with the
requesting user, so the tenancy chokepoint applies to panels too.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class PanelSlot(StrEnum):
    #: The figures across the top of the fleet dashboard.
    DASHBOARD_SUMMARY = "dashboard_summary"
    DASHBOARD = "dashboard"
    APPLIANCE_DETAIL = "appliance_detail"


@dataclass(frozen=True)
class Panel:
    template: str
    #: ``data(request, **page_objects) -> dict``: what the template receives as ``data``.
    data: Callable[..., dict]
    #: Lower first: the page's reading order.
    order: int


_PANELS: dict[PanelSlot, dict[str, Panel]] = {slot: {} for slot in PanelSlot}


def register_panel(slot: PanelSlot, *, template: str, data: Callable[..., dict], order: int) -> None:
    """Keyed by template, so a second ``ready()`` (tests, autoreload) replaces rather than duplicates."""
    _PANELS[PanelSlot(slot)][template] = Panel(template=template, data=data, order=order)


def panels_for(slot: PanelSlot, request, **page_objects) -> list[dict]:
    return [
        {"template": panel.template, "data": panel.data(request, **page_objects)}
        for panel in sorted(_PANELS[PanelSlot(slot)].values(), key=lambda panel: panel.order)
    ]
