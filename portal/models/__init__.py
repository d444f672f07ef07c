from .audit import AuditAction, AuditEvent
from .roles import Role
from .scoping import TenantModel, TenantQuerySet
from .tenancy import Membership, Organization, User
from .tokens import ApiToken

__all__ = [
    "ApiToken",
    "AuditAction",
    "AuditEvent",
    "Membership",
    "Organization",
    "Role",
    "TenantModel",
    "TenantQuerySet",
    "User",
]
