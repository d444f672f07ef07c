"""Certificate facts of a pair embedded in the pair page without a view change."""

from django import template

from portal.models import Role
from portal.permissions import has_role

from ..selectors import pair_certificate_parity

register = template.Library()


@register.simple_tag
def certificate_parity(pair):
    """``{% certificate_parity pair as parity %}``: the stored served-certificate parity (one query)."""
    return pair_certificate_parity(pair)


@register.simple_tag(takes_context=True)
def can_operate_pair(context, pair) -> bool:
    """Whether the viewing user may run certificate actions (check, replicate) on ``pair``."""
    request = context.get("request")
    return request is not None and has_role(request.user, pair.organization_id, Role.OPERATOR)
