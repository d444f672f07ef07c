"""Organisations (tenants), their members and the platform's users."""

from django.contrib.auth.models import AbstractUser
from django.db import models

from ..netpolicy import validate_network_lines
from ..validators import validate_email_lines
from .roles import Role
from .scoping import TenantQuerySet


class User(AbstractUser):
    """A person. Platform operators (or superusers) see and manage every organisation."""

    is_platform_operator = models.BooleanField(
        default=False, help_text="Sees and manages every organisation on the platform."
    )

    @property
    def sees_all_organizations(self) -> bool:
        return self.is_active and (self.is_platform_operator or self.is_superuser)


class Organization(models.Model):
    tenant_lookup = "id"
    # Only platform operators change these. Names and slugs are unique across the platform (a conflict would tell
    # an organisation admin another organisation's name); the allowed networks are the platform's policy.
    PLATFORM_OPERATOR_FIELDS = ("name", "slug", "outbound_allowed_networks")

    name = models.CharField(max_length=150, unique=True)
    slug = models.SlugField(max_length=150, unique=True)
    alert_recipients = models.TextField(
        blank=True, validators=[validate_email_lines],
        help_text="Email addresses that receive this organisation's alerts, one per line.",
    )
    outbound_allowed_networks = models.TextField(
        blank=True, validators=[validate_network_lines], verbose_name="allowed networks",
        help_text="Networks (one CIDR per line) this organisation's appliances, DNS servers and NAT devices may be "
                  "in. Empty: the platform's default. Set by platform operators.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def alert_recipient_list(self) -> list[str]:
        return [line.strip() for line in self.alert_recipients.splitlines() if line.strip()]


class Membership(models.Model):
    tenant_lookup = "organization"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.get_role_display()})"
