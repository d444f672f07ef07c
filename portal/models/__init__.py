from .alerts import FIRING, Alert, AlertSeverity, AlertStatus, alert_status, alert_status_filter
from .audit import AuditAction, AuditEvent
from .csv_jobs import CsvJob, ImportStatus
from .invitations import Invitation
from .notifications import (
    AlertGroup,
    AlertGroupMember,
    ChannelKind,
    Notification,
    NotificationChannel,
    NotificationPurpose,
    NotificationRoute,
    NotificationStatus,
    Silence,
)
from .roles import Role
from .scoping import TenantModel, TenantQuerySet
from .tenancy import Membership, Organization, User
from .tokens import ApiToken

__all__ = [
    "FIRING",
    "ImportStatus",
    "Alert",
    "AlertGroup",
    "AlertGroupMember",
    "AlertSeverity",
    "AlertStatus",
    "ChannelKind",
    "CsvJob",
    "Notification",
    "NotificationChannel",
    "NotificationPurpose",
    "NotificationRoute",
    "NotificationStatus",
    "Silence",
    "alert_status",
    "alert_status_filter",
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
