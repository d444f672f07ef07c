"""Role checks. Reads are scoped by ``for_user``; this module answers 'may this user do X here?'."""

from django.core.exceptions import PermissionDenied

from .models import Membership, Role


class SystemActor:
    """The portal acting on its own (beat, workers, the automatic-failover policy, commands): named explicitly
    where a service is called without a person, so ``actor=None`` is never a silent "no check". It holds every
    role; the audit log records it as "system" and no row stores it as a user."""

    pk = None
    username = "system"
    is_authenticated = True
    is_active = True
    sees_all_organizations = True

    def __repr__(self) -> str:
        return "SYSTEM"

    def __str__(self) -> str:
        return self.username


SYSTEM = SystemActor()


def role_in(user, organization) -> str | None:
    """The user's role in the organisation (admin for platform operators and the system), or None (no user, an
    inactive one, or ``actor=None``: a service must be told who acts)."""
    if user is SYSTEM:
        return Role.ADMIN
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


def require_platform_operator(user, doing: str = "manage organisations") -> None:
    """Organisations themselves are the platform operators' (and the system's, e.g. loading a fleet)."""
    if not (getattr(user, "is_authenticated", False) and getattr(user, "sees_all_organizations", False)):
        raise PermissionDenied(f"Only platform operators {doing}.")


def require_role(user, organization, role: str) -> None:
    if not has_role(user, organization, role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in this organisation.")
