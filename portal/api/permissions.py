from rest_framework import permissions

from ..models import Organization, Role
from ..permissions import has_role


class HasOrganizationRole(permissions.IsAuthenticated):
    """Object-level role check. Viewsets name the role each action needs in ``action_roles``."""

    def has_object_permission(self, request, view, obj):
        role = view.role_for_action()
        organization_id = obj.pk if isinstance(obj, Organization) else obj.organization_id
        return has_role(request.user, organization_id, role)


def safe_default_role(method: str) -> str:
    return Role.VIEWER if method in permissions.SAFE_METHODS else Role.ADMIN
