from .alerts import Alert, AlertSeverity
from .audit import AuditAction, AuditEvent
from .invitations import Invitation
from .roles import Role
from .scoping import TenantModel, TenantQuerySet
from .tenancy import Membership, Organization, User
from .tokens import ApiToken

__all__ = [
    "Alert",
    "AlertSeverity",
    "ApiToken",
    "AuditAction",
    "AuditEvent",
    "Invitation",
    "Membership",
    "Organization",
    "Role",
    "TenantModel",
    "TenantQuerySet",
    "User",
]
