"""The backups panel of the appliance page, without widening the appliance view: read through the selectors
with the requesting user, so the chokepoint applies here too."""

from django import template

from portal.models import Role
from portal.permissions import has_role

from ..selectors import backups_of_appliance

register = template.Library()


@register.simple_tag(takes_context=True)
def appliance_backups_panel(context, appliance) -> dict:
    user = context["request"].user
    return {
        "backups": backups_of_appliance(user=user, appliance=appliance),
        "can_request": has_role(user, appliance.organization_id, Role.OPERATOR),
    }
