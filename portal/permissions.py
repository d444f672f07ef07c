"""Role checks. Reads are scoped by ``for_user``; this module answers 'may this user do X here?'."""

from django.core.exceptions import PermissionDenied

from .models import Membership, Role


def role_in(user, organization) -> str | None:
    """The user's role in the organisation (admin for platform operators), or None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.sees_all_organizations:
        return Role.ADMIN
    organization_id = getattr(organization, "pk", organization)
    cache = user.__dict__.setdefault("_role_cache", {})
    if organization_id not in cache:
        cache[organization_id] = (
            Membership.objects.filter(user=user, organization_id=organization_id).values_list("role", flat=True).first()
        )
    return cache[organization_id]


def has_role(user, organization, role: str) -> bool:
    actual = role_in(user, organization)
    return actual is not None and Role.rank(actual) >= Role.rank(role)


def require_role(user, organization, role: str) -> None:
    if not has_role(user, organization, role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in this organisation.")
