"""Template helpers so other apps' pages can embed certificate facts without a view change."""

from django import template

from portal.models import Role
from portal.permissions import has_role

from ..selectors import pair_certificate_parity

register = template.Library()

_SEVERITY_CLASSES = {"error": "text-bg-danger", "warning": "text-bg-warning", "info": "text-bg-info"}


@register.simple_tag
def certificate_parity(pair):
    """``{% certificate_parity pair as parity %}``: the stored served-certificate parity (one query)."""
    return pair_certificate_parity(pair)


@register.simple_tag(takes_context=True)
def can_operate_pair(context, pair) -> bool:
    """Whether the viewing user may run certificate actions (check, replicate) on ``pair``."""
    request = context.get("request")
    return request is not None and has_role(request.user, pair.organization_id, Role.OPERATOR)


@register.filter
def warning_label(code) -> str:
    return str(code).replace("_", " ").capitalize()


@register.filter
def severity_class(severity) -> str:
    return _SEVERITY_CLASSES.get(str(severity), "text-bg-secondary")


@register.filter
def colon_hex(value) -> str:
    value = value or ""
    return ":".join(value[i : i + 2] for i in range(0, len(value), 2)).upper()
