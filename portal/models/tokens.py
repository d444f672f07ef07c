"""API tokens for REST clients. The secret is shown once at creation and only its hash is stored."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "fpt"


def hash_token_secret(secret: str) -> str:
    # The secret is 32 random bytes, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token_material() -> tuple[str, str, str]:
    """Return (lookup key, secret, full token as the client sends it)."""
    key = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key, secret, f"{TOKEN_PREFIX}_{key}_{secret}"


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiToken(models.Model):
    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'monitoring script'.")
    key = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}_{self.key}_…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def matches(self, secret: str) -> bool:
        return secrets.compare_digest(self.secret_hash, hash_token_secret(secret))
