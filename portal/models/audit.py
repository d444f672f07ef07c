"""The audit log: who did what, in which organisation, when, with a summary of the change."""

from django.conf import settings
from django.db import models

from .scoping import TenantQuerySet


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    ACTION = "action", "Operator action"
    LOGIN = "login", "Signed in"


class AuditEvent(models.Model):
    tenant_lookup = "organization"

    # Nullable: platform-level events (an organisation created or deleted) belong to no tenant.
    organization = models.ForeignKey(
        "portal.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # Kept as text so the record survives the user's deletion.
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    verb = models.CharField(max_length=64, blank=True, help_text="The operator action, e.g. 'sync_now'.")
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="audit_org_recent")]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_action_display().lower()} {self.object_type} {self.object_repr}"
