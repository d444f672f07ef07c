"""Panels added to the appliance page (backups, RMA) without widening the appliance view: read through the
selectors with the requesting user, so the chokepoint applies here too."""

from django import template

from portal.models import Role
from portal.permissions import has_role

from ..selectors import appliance_hardware_history, backups_of_appliance, rma_open_case_for

register = template.Library()


@register.simple_tag(takes_context=True)
def appliance_backups_panel(context, appliance) -> dict:
    user = context["request"].user
    return {
        "backups": backups_of_appliance(user=user, appliance=appliance),
        "open_case": rma_open_case_for(user=user, appliance=appliance),
        "hardware": appliance_hardware_history(user=user, appliance=appliance),
        "can_request": has_role(user, appliance.organization_id, Role.OPERATOR),
        "can_open_case": has_role(user, appliance.organization_id, Role.OPERATOR),
    }


@register.filter
def step_detail_label(key: str) -> str:
    """``default_password_changed`` -> ``Default password changed`` for the case timeline."""
    return str(key).replace("_", " ").capitalize()
