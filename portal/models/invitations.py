"""Invitations: how a person joins an organisation.

An admin invites an email address; the link sent there carries a secret of which only the hash is stored. It is
single use and expires (``INVITATION_TTL_HOURS``). Nothing here looks users up: whoever holds the link signs in
(or creates an account) and accepts, so an admin never learns which people have accounts on the platform.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from .roles import Role
from .scoping import TenantModel, TenantQuerySet
from .tokens import hash_token_secret

# The same scheme as API tokens: 32 random bytes, so a fast hash suffices (there is nothing to brute-force).
hash_invitation_secret = hash_token_secret


def new_invitation_secret() -> str:
    return secrets.token_urlsafe(32)


class InvitationQuerySet(TenantQuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(TenantModel):
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "pending"

    def matches(self, secret: str) -> bool:
        return secrets.compare_digest(self.secret_hash, hash_invitation_secret(secret))
